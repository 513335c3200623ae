"""xAPI completed statements: actor, activity, and measured duration."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lti_tool.events.completion import BadEvent, Completion, Ignored
from lti_tool.events.xapi import duration_minutes, parse_xapi


def statement(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"account": {"homePage": "https://lms.example", "name": "learner-9"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example/course/7", "definition": {"name": {"en-US": "Billing"}}},
        "result": {"duration": "PT1H30M"},
        "timestamp": "2026-11-01T12:00:00Z",
    }
    base.update(changes)
    return base


def parse(data: Any) -> Any:
    return parse_xapi(json.dumps(data).encode())


def test_completed_statement_with_duration() -> None:
    [event] = parse(statement())
    assert isinstance(event, Completion)
    assert (event.lms_user_id, event.course_id, event.measured_minutes) == (
        "learner-9", "https://lms.example/course/7", 90)
    assert event.course_name == "Billing" and event.external_id.startswith("fd41")


def test_an_array_of_statements() -> None:
    events = parse([statement(), statement(verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})])
    assert isinstance(events[0], Completion) and isinstance(events[1], Ignored)


def test_mbox_actor_is_the_learner() -> None:
    [event] = parse(statement(actor={"mbox": "mailto:Ada@Example.com"}))
    assert event.lms_user_id == "mailto:ada@example.com"


def test_cmi5_and_w3id_completed_verbs_credit() -> None:
    [event] = parse(statement(verb={"id": "https://w3id.org/xapi/adl/verbs/completed"}))
    assert isinstance(event, Completion)


def test_without_duration_the_time_is_unmeasured() -> None:
    [event] = parse(statement(result=None))
    assert event.measured_minutes is None


@pytest.mark.parametrize("text, minutes", [("PT1H30M", 90), ("PT45M10.5S", 45), ("PT59S", 0),
                                           ("P1DT2H", 1560), ("PT0.5H", None), ("PT90M", 90)])
def test_durations_in_whole_minutes_rounded_down(text: str, minutes: int | None) -> None:
    if minutes is None:
        with pytest.raises(BadEvent):
            duration_minutes(text)
    else:
        assert duration_minutes(text) == minutes


@pytest.mark.parametrize("bad", [{"actor": {}}, {"result": {"duration": "ninety minutes"}},
                                 {"result": {"duration": "P1M"}}, {"timestamp": None},
                                 {"result": {"duration": "PT0S"}}, {"result": {"duration": "PT0H0M"}},
                                 {"result": {"duration": "-PT30M"}}],
                         ids=["no-actor", "unparseable", "months", "no-time", "zero", "zero-parts", "negative"])
def test_malformed_statements_are_bad(bad: dict[str, Any]) -> None:
    with pytest.raises(BadEvent):
        parse(statement(**bad))


def test_missing_actor_names_the_field() -> None:
    data = statement()
    del data["actor"]
    with pytest.raises(BadEvent, match="actor"):
        parse(data)
