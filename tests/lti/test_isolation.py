"""Least privilege on every route, and no data of one platform visible from another."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.pages import complete, csrf_token, mapping_form
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR, LEARNER, TestPlatform

ROUTES = ["/lti/home", "/lti/learner", "/lti/certificates/1.pdf", "/lti/course", "/lti/course.csv",
          "/lti/mapping", "/lti/deep-link"]
ALLOWED = {
    "learner": {"/lti/home", "/lti/learner"},
    "instructor": {"/lti/home", "/lti/learner", "/lti/course", "/lti/course.csv"},
    "administrator": {"/lti/home", "/lti/learner", "/lti/course", "/lti/course.csv", "/lti/mapping"},
}
ROLES = {"learner": LEARNER, "instructor": INSTRUCTOR, "administrator": ADMINISTRATOR}


@pytest.mark.parametrize("route", ROUTES)
def test_every_page_needs_a_launch(route: str, client: Any) -> None:
    response = client.get(route)
    assert response.status_code == 401
    assert "open the tool from your course" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_its_pages(role: str, launch: Launcher) -> None:
    assert launch(launch.platform.claims(roles=ROLES[role])).status_code == 303
    for route in ROUTES:
        status = launch.client.get(route).status_code
        if route == "/lti/home":
            assert status == 303
        elif route in ALLOWED[role]:
            assert status == 200, (role, route, status)
        elif route in ("/lti/certificates/1.pdf", "/lti/deep-link") and role != "learner":
            assert status in (400, 404), (role, route, status)  # no such award; not a deep-linking launch
        else:
            assert status in (403, 404), (role, route, status)
            if route != "/lti/certificates/1.pdf":
                assert status == 403


def test_an_instructor_cannot_preview_or_save_mappings(launch: Launcher, runtime: Runtime) -> None:
    launch(launch.platform.claims(roles=INSTRUCTOR))
    for path in ("/lti/mapping/preview", "/lti/mapping"):
        assert launch.client.post(path, data=mapping_form("")).status_code in (400, 403)
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.CourseMapping)) is None


@pytest.fixture
def other_platform(cli_json: Callable[..., Any]) -> Iterator[TestPlatform]:
    p = TestPlatform(client_id="tool-client-2", deployment_id="deployment-b").start()
    cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-2")
    cli_json(*p.cli_args(source="moodle-2"))
    yield p
    p.stop()


def test_another_platforms_users_see_none_of_this_platforms_data(
    launch: Launcher, other_platform: TestPlatform, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")
    launch(launch.platform.claims(sub="99", roles=ADMINISTRATOR))
    token = csrf_token(launch.client, "/lti/mapping")
    launch.client.post("/lti/mapping", data=mapping_form(token))
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id))

    other = Launcher(launch.client, other_platform)  # same user id, same course id, other LMS
    assert other(other_platform.claims(sub="42")).status_code == 303
    learner_page = other.client.get("/lti/learner").get_data(as_text=True)
    assert "No credit yet" in learner_page
    assert other.client.get(f"/lti/certificates/{award_id}.pdf").status_code == 404
    assert other(other_platform.claims(sub="7", roles=INSTRUCTOR)).status_code == 303
    assert "Ada Lovelace" not in other.client.get("/lti/course").get_data(as_text=True)
    assert other.client.get("/lti/course.csv").get_data(as_text=True).count("\n") == 1
    assert other(other_platform.claims(sub="8", roles=ADMINISTRATOR)).status_code == 303
    assert "HIPAA basics" not in other.client.get("/lti/mapping").get_data(as_text=True)


def test_a_token_of_one_platform_cannot_launch_as_another(
    launch: Launcher, other_platform: TestPlatform, runtime: Runtime
) -> None:
    """Platform B signs a token claiming platform A's issuer: A's keys do not verify it."""
    body = launch.platform.claims()
    response = launch(body, key=other_platform.key)
    assert response.status_code == 401
