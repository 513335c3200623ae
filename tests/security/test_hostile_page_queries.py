"""Hostile query strings and paths on the staff pages (found after the review, same class as #11
item 7): a page number beyond 64 bits, a search or a course id holding a NUL. Each is a 4xx or the
page's documented fallback, never a 500, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR
from tests.lti.test_course_roster import complete, map_course

BEYOND_64_BITS = "9" * 25


@pytest.fixture
def instructor(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> FlaskClient:
    map_course(runtime, dict(source, name="moodle-1"), "iacet-ceu")
    complete(runtime, source, "42", "Ada Lovelace")
    assert launch(launch.platform.claims(roles=INSTRUCTOR)).status_code == 303
    return launch.client


@pytest.mark.parametrize("page", [BEYOND_64_BITS, "9" * 19, "1000001", "0", "-3", "x"],
                         ids=["beyond 64 bits", "beyond the offset's 64 bits", "over the limit", "zero",
                              "negative", "not a number"])
def test_a_page_number_out_of_range_shows_the_first_page(instructor: FlaskClient, page: str) -> None:
    response = instructor.get("/lti/course", query_string={"page": page})
    assert response.status_code == 200 and "Ada Lovelace" in response.get_data(as_text=True)
    assert response.get_data(as_text=True) == instructor.get("/lti/course").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/lti/course", "/lti/course.csv"], ids=["page", "CSV"])
@pytest.mark.parametrize("q", ["ada\x00", "\x1b[2J", "ada\x7f"], ids=["NUL", "escape", "DEL"])
def test_a_search_no_learner_could_match_is_400(instructor: FlaskClient, path: str, q: str) -> None:
    response = instructor.get(path, query_string={"q": q})
    assert response.status_code == 400
    assert "the search" in response.get_data(as_text=True)


def test_a_long_search_is_cut_to_its_limit(instructor: FlaskClient) -> None:
    assert instructor.get("/lti/course", query_string={"q": "a" * 5000}).status_code == 200
    assert instructor.get("/lti/course.csv", query_string={"q": "a" * 5000}).status_code == 200


@pytest.mark.parametrize("course", ["56%005", "%ED%A0%80", "c" * 2001], ids=["NUL", "lone surrogate", "over 2000"])
def test_a_hostile_mapped_course_path_is_404(launch: Launcher, course: str) -> None:
    assert launch(launch.platform.claims(roles=ADMINISTRATOR)).status_code == 303
    response = launch.client.get(f"/lti/mapping/courses/{course}")
    assert response.status_code == 404


def test_the_staff_pages_query_strings_never_answer_5xx(instructor: FlaskClient) -> None:
    """Property: any search, page, sort and direction the instructor page and its CSV are given."""
    from hypothesis import given
    from hypothesis import strategies as st

    from tests.security.test_no_500_property_wider import FORM_TEXT, HUGE, SOME

    query = st.fixed_dictionaries({}, optional={
        "q": FORM_TEXT, "page": FORM_TEXT | HUGE.map(str) | st.integers().map(str), "sort": FORM_TEXT,
        "dir": FORM_TEXT})

    @SOME
    @given(query, st.sampled_from(["/lti/course", "/lti/course.csv"]))
    def check(args: dict[str, str], path: str) -> None:
        response = instructor.get(path, query_string=args)
        assert response.status_code in (200, 400), response.get_data(as_text=True)

    check()
