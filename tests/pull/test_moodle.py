"""The Moodle web-services client against a stand-in that answers as Moodle does (errors in HTTP 200)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lti_tool.pull.found import Page
from lti_tool.pull.http import LmsHttp, PullError
from lti_tool.pull.moodle import PAGE_SIZE, MoodleClient
from tests.support.loopback import serve
from tests.support.moodle_api import MoodleCourse, MoodleState, moodle_handler, moodle_user


@pytest.fixture
def state() -> MoodleState:
    users = [moodle_user(i, f"Ann{i}", "Lee") for i in range(1, PAGE_SIZE + 11)]
    return MoodleState(token="ws-token", courses={"42": MoodleCourse(users, completed={
        3: [1700000000, 1700000500], 7: [1700000900], 205: [1700001000]})})


@pytest.fixture
def client(state: MoodleState, monkeypatch: pytest.MonkeyPatch) -> Iterator[MoodleClient]:
    monkeypatch.setenv("MOODLE_TOKEN", "ws-token")
    with serve(moodle_handler(state)) as base:
        yield MoodleClient(LmsHttp(), base, {"token_env": "MOODLE_TOKEN"})


def pages(client: MoodleClient, course: str = "42", known: dict[str, datetime] | None = None) -> list[Page]:
    return list(client.pull(course, known=known or {}, since=None))


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_completed_users_credit_with_their_latest_criterion_time(client: MoodleClient) -> None:
    found = {f.completion.lms_user_id: f.completion for page in pages(client) for f in page.found}
    assert sorted(found) == ["205", "3", "7"]
    assert found["3"].completed_at == datetime.fromtimestamp(1700000500, UTC)
    assert found["3"].learner_name == "Ann3 Lee" and found["3"].learner_email == "ann3@clinic.example"


def test_enrolled_users_are_read_page_by_page(client: MoodleClient, state: MoodleState) -> None:
    result = pages(client)
    assert [p.users_checked for p in result] == [PAGE_SIZE, 10]
    assert [c[1]["options[0][value]"] for c in state.calls if c[0] == "core_enrol_get_enrolled_users"] == ["0", "200"]


def test_users_known_as_completed_are_not_asked_about(client: MoodleClient, state: MoodleState) -> None:
    """Users 3 and 7 were last in the course (lastcourseaccess 1700000000) before the completions known."""
    result = pages(client, known={"3": at(1700000500), "7": at(1700000900)})
    assert sum(p.known for p in result) == 2
    asked = {c[1]["userid"] for c in state.calls if c[0] == "core_completion_get_course_completion_status"}
    assert "3" not in asked and "7" not in asked and len(asked) == PAGE_SIZE + 8


def test_a_known_user_back_in_the_course_since_is_asked_again(client: MoodleClient, state: MoodleState) -> None:
    """A retake after a course reset: user 3 was in the course after the completion the tool knows."""
    state.courses["42"].completed[3] = [1760000000]
    state.courses["42"].users[2]["lastcourseaccess"] = 1759990000
    found = {f.completion.lms_user_id: f.completion for page in pages(client, known={"3": at(1700000500)})
             for f in page.found}
    assert found["3"].completed_at == at(1760000000)


def test_a_known_user_is_asked_when_moodle_does_not_say_when_they_were_last_in(
        client: MoodleClient, state: MoodleState) -> None:
    del state.courses["42"].users[2]["lastcourseaccess"]
    found = {f.completion.lms_user_id for page in pages(client, known={"3": at(1700000500)}) for f in page.found}
    assert "3" in found


def test_a_user_who_left_between_the_calls_is_skipped(client: MoodleClient, state: MoodleState) -> None:
    state.courses["42"].gone.add(7)
    found = [f.completion.lms_user_id for page in pages(client) for f in page.found]
    assert sorted(found) == ["205", "3"]


def test_a_course_without_completion_criteria_stops_the_course(client: MoodleClient, state: MoodleState) -> None:
    state.courses["42"].criteria = False
    with pytest.raises(PullError, match="nocriteriaset") as caught:
        pages(client)
    assert caught.value.scope == "course"


def test_an_unknown_course_stops_the_course(client: MoodleClient) -> None:
    with pytest.raises(PullError, match="invalidrecord") as caught:
        pages(client, course="999")
    assert caught.value.scope == "course"


def test_an_invalid_token_stops_the_source(client: MoodleClient, state: MoodleState) -> None:
    state.token = "rotated"
    with pytest.raises(PullError, match="invalidtoken") as caught:
        pages(client)
    assert caught.value.scope == "source"


def test_a_function_missing_from_the_service_stops_the_source(client: MoodleClient, state: MoodleState) -> None:
    state.enabled = ("core_enrol_get_enrolled_users",)
    with pytest.raises(PullError, match="accessexception") as caught:
        pages(client)
    assert caught.value.scope == "source"


def test_a_criterion_not_yet_met_is_not_a_completion(client: MoodleClient, state: MoodleState) -> None:
    state.courses["42"].completed[9] = [1700000000, None]
    found = [f.completion.lms_user_id for page in pages(client) for f in page.found]
    assert "9" not in found
