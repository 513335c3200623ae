"""Moodle's course_completed event as webhook plugins post it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lti_tool.events.completion import BadEvent, Completion, Ignored
from lti_tool.events.moodle import parse_moodle
from tests.spine import fixture_bytes, moodle_completed


def parse(event: Any) -> Any:
    return parse_moodle(json.dumps(event).encode())


@pytest.mark.parametrize("user, course", [("42", "7"), (42, 7)], ids=["strings", "integers"])
def test_ids_as_strings_or_integers_read_the_same(user: Any, course: Any) -> None:
    [event] = parse(moodle_completed(user, course))
    assert isinstance(event, Completion)
    assert (event.lms_user_id, event.course_id) == ("42", "7")
    assert event.completed_at.isoformat() == "2023-11-14T22:13:20+00:00"


@pytest.mark.parametrize("other", [None, {"relateduserid": 42}, '{"relateduserid": 42}'],
                         ids=["null", "object", "json-string"])
def test_other_may_be_null_an_object_or_a_json_string(other: Any) -> None:
    [event] = parse(moodle_completed("42", "7", other=other))
    assert event.lms_user_id == "42"


def test_learner_falls_back_to_other_relateduserid() -> None:
    event = moodle_completed("2", "7", other={"relateduserid": "42"})
    event["relateduserid"] = None
    [completion] = parse(event)
    assert completion.lms_user_id == "42"


def test_extra_keys_and_whole_records_are_tolerated_and_read() -> None:
    event = moodle_completed("42", "7")
    event["user"] = {"id": 42, "firstname": "Ada", "lastname": "Byron", "email": "ada@example.com"}
    event["course"] = {"id": 7, "fullname": "Billing basics"}
    event["whatever"] = [1, 2, 3]
    [completion] = parse(event)
    assert (completion.learner_name, completion.learner_email, completion.course_name) == (
        "Ada Byron", "ada@example.com", "Billing basics")


def test_eventname_without_leading_backslash_is_recognized() -> None:
    event = moodle_completed("42", "7")
    event["eventname"] = "core\\event\\course_completed"
    assert isinstance(parse(event)[0], Completion)


def test_the_course_viewed_fixture_is_ignored() -> None:
    [event] = parse_moodle(fixture_bytes("moodle_local_webhooks_course_viewed_example.json"))
    assert isinstance(event, Ignored) and "course_viewed" in event.reason


def test_an_array_of_events_is_read_in_order() -> None:
    events = parse([moodle_completed("1", "7"), moodle_completed("2", "7")])
    assert [e.lms_user_id for e in events] == ["1", "2"]


@pytest.mark.parametrize("mutate, field", [
    (lambda e: e.update(relateduserid=None), "relateduserid"),
    (lambda e: e.update(courseid=None), "courseid"),
    (lambda e: e.update(timecreated="soon"), "timecreated"),
    (lambda e: e.pop("eventname"), "eventname"),
])
def test_malformed_events_name_the_field(mutate: Any, field: str) -> None:
    event = moodle_completed("42", "7")
    mutate(event)
    with pytest.raises(BadEvent, match=field):
        parse(event)


def test_not_json_is_bad() -> None:
    with pytest.raises(BadEvent):
        parse_moodle(b"eventname=course_completed")
