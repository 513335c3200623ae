"""Moodle's ``\\core\\event\\course_completed`` as webhook plugins post it.

The base event fields (``eventname``, ``courseid``, ``relateduserid``, ``timecreated``, …), ids as
strings or integers, ``other`` null, an object or a JSON string, extra keys (``host``, ``token``,
``extra``, whole ``user`` and ``course`` records) tolerated. One event or a JSON array of events.
The completing learner is ``relateduserid`` (the event's ``userid`` is whoever triggered it, which
for a completion run by cron is not the learner).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from lti_tool.events.completion import BadEvent, Completion, Ignored, ParsedEvent
from lti_tool.events.wire import WireId, as_id, as_utc, first_error, load_json

COMPLETED = "\\core\\event\\course_completed"


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    eventname: str
    courseid: WireId | None = None
    relateduserid: WireId | None = None
    objectid: WireId | None = None
    timecreated: WireId | None = None
    other: dict[str, Any] | str | list[Any] | None = None
    user: dict[str, Any] | None = None
    course: dict[str, Any] | None = None


def parse_moodle(body: bytes) -> list[ParsedEvent]:
    data = load_json(body)
    events = data if isinstance(data, list) else [data]
    if not events:
        raise BadEvent("an empty array carries no event")
    return [_event(item, f"[{i}]." if isinstance(data, list) else "") for i, item in enumerate(events)]


def _event(item: Any, where: str) -> ParsedEvent:
    if not isinstance(item, dict):
        raise BadEvent(f"{where or 'body'}: a Moodle event is a JSON object")
    try:
        event = _Event.model_validate(item)
    except ValidationError as exc:
        raise first_error(exc, where) from None
    name = "\\" + event.eventname.lstrip("\\")
    if name != COMPLETED:
        return Ignored(f"moodle event {name} does not credit")
    other = _other(event.other, where)
    learner = event.relateduserid if event.relateduserid not in (None, "") else other.get("relateduserid")
    if learner in (None, ""):
        raise BadEvent(f"{where}relateduserid: the completing learner is missing")
    if event.timecreated is None:
        raise BadEvent(f"{where}timecreated: missing")
    user, course = event.user or {}, event.course or {}
    name_parts = [str(user[k]) for k in ("firstname", "lastname") if user.get(k)]
    return Completion(
        lms_user_id=as_id(learner, f"{where}relateduserid"),
        course_id=as_id(event.courseid, f"{where}courseid"),
        completed_at=as_utc(event.timecreated, f"{where}timecreated"),
        learner_name=" ".join(name_parts) or None,
        learner_email=user.get("email"),
        course_name=course.get("fullname"),
        external_id=None if event.objectid is None else str(event.objectid),
    )


def _other(value: Any, where: str) -> dict[str, Any]:
    if value in (None, "", []):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadEvent(f"{where}other: not JSON") from None
    if not isinstance(value, dict):
        return {}
    return value
