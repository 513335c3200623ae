"""xAPI statements, one or an array, as an LRS forwards them.

Verb ``completed`` (ADL's, which cmi5 also uses) credits: the actor's account name (or mbox) is the
learner, the object's activity id the course, and ``result.duration`` is measured contact time that
a mapping may use instead of its fixed minutes. Other verbs are acknowledged and ignored.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from lti_tool.events.completion import MAX_MINUTES, BadEvent, Completion, Ignored, ParsedEvent
from lti_tool.events.wire import as_utc, first_error, load_json

COMPLETED_VERBS = frozenset({
    "http://adlnet.gov/expapi/verbs/completed",
    "https://w3id.org/xapi/adl/verbs/completed",
})

# ISO 8601 durations as xAPI uses them: PnYnMnDTnHnMnS, the seconds possibly fractional.
_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Account(_Loose):
    homePage: str | None = None
    name: str


class _Actor(_Loose):
    account: _Account | None = None
    mbox: str | None = None
    mbox_sha1sum: str | None = None
    name: str | None = None


class _Verb(_Loose):
    id: str


class _Object(_Loose):
    id: str
    definition: dict[str, Any] | None = None


class _Result(_Loose):
    duration: str | None = None


class _Statement(_Loose):
    id: str | None = None
    actor: _Actor
    verb: _Verb
    object: _Object
    result: _Result | None = None
    timestamp: str | None = None
    stored: str | None = None


def duration_minutes(text: str) -> int:
    """Whole minutes in an ISO 8601 duration, rounded down. Years and months are refused: their
    length in minutes is not fixed; so are a zero duration and a negative one (not ISO 8601)."""
    if len(text) > 64:
        raise BadEvent("result.duration: longer than 64 characters")
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise BadEvent(f"result.duration: not an ISO 8601 duration: {text!r}")
    parts = match.groupdict()
    if parts["years"] or parts["months"]:
        raise BadEvent(f"result.duration: years and months are not a measurable time: {text!r}")
    seconds = Decimal((parts["seconds"] or "0").replace(",", "."))
    seconds += Decimal(int(parts["minutes"] or 0) * 60 + int(parts["hours"] or 0) * 3600)
    seconds += Decimal((int(parts["days"] or 0) + 7 * int(parts["weeks"] or 0)) * 86400)
    if seconds <= 0:
        raise BadEvent(f"result.duration: a completion takes some time, not {text!r}")
    if seconds >= (MAX_MINUTES + 1) * 60:  # before dividing: 10**30 s is beyond Decimal's precision
        raise BadEvent(f"result.duration: more minutes than a completion can hold: {text!r}")
    return int(seconds // 60)


def parse_xapi(body: bytes) -> list[ParsedEvent]:
    data = load_json(body)
    statements = data if isinstance(data, list) else [data]
    if not statements:
        raise BadEvent("an empty array carries no statement")
    return [_statement(s, f"[{i}]." if isinstance(data, list) else "") for i, s in enumerate(statements)]


def _statement(item: Any, where: str) -> ParsedEvent:
    if not isinstance(item, dict):
        raise BadEvent(f"{where or 'body'}: a statement is a JSON object")
    try:
        statement = _Statement.model_validate(item)
    except ValidationError as exc:
        raise first_error(exc, where) from None
    if statement.verb.id not in COMPLETED_VERBS:
        return Ignored(f"xapi verb {statement.verb.id} does not credit")
    when = statement.timestamp or statement.stored
    if when is None:
        raise BadEvent(f"{where}timestamp: missing (and no stored)")
    duration = statement.result.duration if statement.result else None
    definition = statement.object.definition or {}
    names = definition.get("name") if isinstance(definition.get("name"), dict) else {}
    return Completion(
        lms_user_id=_learner(statement.actor, where),
        course_id=statement.object.id,
        completed_at=as_utc(when, f"{where}timestamp"),
        measured_minutes=None if duration is None else duration_minutes(duration),
        learner_name=statement.actor.name,
        learner_email=statement.actor.mbox.removeprefix("mailto:").lower() if statement.actor.mbox else None,
        course_name=next(iter(names.values()), None) if names else None,
        external_id=statement.id,
    )


def _learner(actor: _Actor, where: str) -> str:
    if actor.account is not None and actor.account.name.strip():
        return actor.account.name.strip()
    if actor.mbox:
        address = actor.mbox.strip()
        return "mailto:" + address.removeprefix("mailto:").lower()
    if actor.mbox_sha1sum:
        return actor.mbox_sha1sum.strip().lower()
    raise BadEvent(f"{where}actor: needs an account, an mbox or an mbox_sha1sum")
