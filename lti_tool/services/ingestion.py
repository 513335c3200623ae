"""Recording an accepted event: stored and processed in one transaction, answered after commit.

If processing fails (a plugin raises, the database refuses a row), the transaction is rolled back,
so no award, ledger entry or outbox claim is half-written; the event alone is then stored as
``failed`` and the scheduler's ``reprocess`` tick takes it up again. Nothing is lost.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.credits.registry import Rulebook
from lti_tool.db import insert_or_skip, upsert_returning_id, write_session
from lti_tool.events.completion import Completion, Ignored, ParsedEvent
from lti_tool.services.crediting import credit_completion, find_mapping

log = logging.getLogger(__name__)

# Built once; values come as parameters (the hot path of every event).
_EVENT_INSERT = insert(models.LmsEvent.__table__).returning(models.LmsEvent.__table__.c.id)
_EVENT_UPDATE = (
    update(models.LmsEvent.__table__)
    .where(models.LmsEvent.__table__.c.id == bindparam("event_id"))
    .values(status=bindparam("status"), detail=bindparam("detail"))
)

# When one request carries several statements, the answer names the most telling status.
STATUS_ORDER = ("credited", "unmapped", "refused", "duplicate", "ignored")


@dataclass(frozen=True)
class NewCompletion:
    """The completion just inserted, without reading it back."""

    id: int
    learner_id: int
    source_id: int
    course_id: str
    completed_at: datetime
    measured_minutes: int | None


@dataclass(frozen=True)
class Outcome:
    status: str
    event_id: int
    items: list[dict[str, Any]] = field(default_factory=list)


def serialize(parsed: list[ParsedEvent]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for item in parsed:
        if isinstance(item, Ignored):
            rows.append({"ignored": item.reason})
        else:
            row = asdict(item)
            row["completed_at"] = item.completed_at.isoformat()
            rows.append(row)
    return rows


def deserialize(rows: list[dict[str, Any]]) -> list[ParsedEvent]:
    items: list[ParsedEvent] = []
    for row in rows:
        if "ignored" in row:
            items.append(Ignored(row["ignored"]))
        else:
            items.append(Completion(**{**row, "completed_at": datetime.fromisoformat(row["completed_at"])}))
    return items


def record_event(
    sessions: sessionmaker[Session],
    rulebook: Rulebook,
    *,
    source_id: int,
    identity_id: int,
    body: str,
    content_type: str | None,
    parsed: list[ParsedEvent],
) -> Outcome:
    """Store the request and credit what it reports, atomically.

    ``identity_id`` is the source whose learner and course ids the event names (see
    :attr:`lti_tool.models.Source.identity_id`).
    """
    rows = serialize(parsed)
    try:
        with write_session(sessions) as session:
            event_id = session.execute(_EVENT_INSERT, {
                "source_id": source_id, "body": body, "content_type": content_type, "parsed": rows,
                "status": "processing", "detail": {}, "received_at": models.utcnow(), "attempts": 1,
            }).scalar_one()
            outcome = _process(session, event_id, identity_id, parsed, rulebook)
            session.execute(_EVENT_UPDATE, {"event_id": event_id, "status": outcome.status,
                                            "detail": {"items": outcome.items}})
        return outcome
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, then retried by the scheduler
        log.exception("processing an event from source %s failed; stored for retry", source_id)
        with write_session(sessions) as session:
            event = models.LmsEvent(
                source_id=source_id, body=body, content_type=content_type, parsed=rows,
                status="failed", detail={"error": f"{type(exc).__name__}: {exc}"},
            )
            session.add(event)
            session.flush()
            return Outcome("queued", event.id)


def reprocess_failed(sessions: sessionmaker[Session], rulebook: Rulebook, limit: int = 100) -> list[Outcome]:
    """Retry events whose processing failed; each in its own transaction."""
    with sessions() as session:
        ids = list(session.scalars(
            select(models.LmsEvent.id).where(models.LmsEvent.status == "failed")
            .order_by(models.LmsEvent.id).limit(limit)
        ))
    outcomes = []
    for event_id in ids:
        try:
            with write_session(sessions) as session:
                event = session.get(models.LmsEvent, event_id)
                if event is None or event.status != "failed":
                    continue
                event.attempts += 1
                source = session.get(models.Source, event.source_id)
                assert source is not None
                outcome = _process(session, event.id, source.identity_id, deserialize(event.parsed), rulebook)
                event.status, event.detail = outcome.status, {"items": outcome.items}
                outcomes.append(outcome)
        except Exception as exc:  # noqa: BLE001 - recorded on the event, retried on the next tick
            log.exception("retrying event %s failed again", event_id)
            with write_session(sessions) as session:
                event = session.get(models.LmsEvent, event_id)
                if event is not None:
                    event.attempts += 1
                    event.detail = {"error": f"{type(exc).__name__}: {exc}"}
    return outcomes


def _process(
    session: Session, event_id: int, identity_id: int, parsed: list[ParsedEvent], rulebook: Rulebook,
) -> Outcome:
    """Credit what the event reports; the caller records the outcome on the event."""
    items = [
        {"status": "ignored", "reason": item.reason} if isinstance(item, Ignored)
        else _process_completion(session, event_id, identity_id, item, rulebook)
        for item in parsed
    ]
    statuses = {item["status"] for item in items} or {"ignored"}
    status = next(s for s in STATUS_ORDER if s in statuses)
    return Outcome(status, event_id, items)


def _process_completion(
    session: Session, event_id: int, identity_id: int, item: Completion, rulebook: Rulebook
) -> dict[str, Any]:
    learner_id = upsert_returning_id(
        session,
        models.Learner.__table__,
        {
            "source_id": identity_id,
            "lms_user_id": item.lms_user_id,
            "name": item.learner_name,
            "email": item.learner_email,
            "created_at": models.utcnow(),
        },
        ["source_id", "lms_user_id"],
        ["name", "email"],
    )
    values = {
        "learner_id": learner_id,
        "source_id": identity_id,
        "course_id": item.course_id,
        "course_name": item.course_name,
        "completed_at": item.completed_at,
        "measured_minutes": item.measured_minutes,
        "event_id": event_id,
        "created_at": models.utcnow(),
    }
    completion_id = insert_or_skip(
        session, models.CourseCompletion.__table__, values, ["learner_id", "course_id"]
    )
    base = {"user": item.lms_user_id, "course": item.course_id}
    if completion_id is None:
        return {**base, "status": "duplicate"}
    completion = NewCompletion(
        completion_id, learner_id, identity_id, item.course_id, item.completed_at, item.measured_minutes
    )
    mapping = find_mapping(session, identity_id, item.course_id)
    if mapping is None:
        return {**base, "status": "unmapped"}
    outcome = credit_completion(session, completion, mapping, rulebook)
    return {**base, "status": outcome.status, **outcome.detail()}
