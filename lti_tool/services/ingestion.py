"""Recording accepted events: each stored and credited in a transaction, answered after commit.

Events that arrive together share one transaction (see :class:`lti_tool.services.group_commit.GroupCommit`):
one commit, one flush to disk, for all of them. If that transaction fails, each event is recorded
again alone, so one bad event cannot hold back the others. If an event's own processing fails (a
plugin raises, the database refuses a row), its transaction is rolled back, so no award, ledger entry
or outbox claim is half-written; the event alone is then stored as ``failed`` and the scheduler's
``reprocess`` tick takes it up again. Nothing is lost.

Transactions: :func:`record_events` (the group commit's batch function) and :func:`reprocess_failed`
are ingestion's one runner of several transactions, for the reasons above; everything they call
(:mod:`~lti_tool.services.completions`, :mod:`~lti_tool.services.crediting`, the ledger) takes their
``Session`` and never commits.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.credits.registry import Rulebook
from lti_tool.db import flushed_connection, table_of, write_session
from lti_tool.driver_statements import driver_execute
from lti_tool.events.completion import Completion, Ignored, ParsedEvent
from lti_tool.models.lms_event import RETRY_INDEXED
from lti_tool.row_inserts import bound_values, execute_values, reserve_ids, reserved_ids
from lti_tool.services import read_ahead
from lti_tool.services.completions import Outcome, StoredEvent, credit_events, reported_learners
from lti_tool.services.read_ahead import ReadAhead

log = logging.getLogger(__name__)

_EVENTS = table_of(models.LmsEvent)


@dataclass(frozen=True)
class Submission:
    """An accepted request: where it came from, its body, and what it was parsed into."""

    source_id: int
    identity_id: int
    """The source whose learner and course ids the event names (:attr:`lti_tool.models.Source.identity_id`)."""
    body: str
    content_type: str | None
    parsed: list[ParsedEvent]


def serialize(parsed: list[ParsedEvent]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for item in parsed:
        if isinstance(item, Ignored):
            rows.append({"ignored": item.reason})
        else:
            row = {f.name: getattr(item, f.name) for f in fields(item)}  # flat: no deep copy
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


def record_events(
    sessions: sessionmaker[Session], rulebook: Rulebook, submissions: list[Submission]
) -> list[Outcome | Exception]:
    """Store the requests and credit what they report in one transaction; one outcome each, in order.

    If the transaction fails, each request is recorded alone, and a request that fails alone is
    stored as ``failed`` for the scheduler to retry. A request that cannot even be stored gets its
    exception in its place (a lone request raises it), so the others keep their answers.
    """
    try:
        with write_session(sessions) as session:
            return list(_store_and_credit(session, rulebook, submissions))
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, then retried by the scheduler
        if len(submissions) > 1:
            log.warning("%d events failed together (%s); recording each alone", len(submissions), exc)
            return [_record_alone(sessions, rulebook, one) for one in submissions]
        log.exception("processing an event from source %s failed; stored for retry", submissions[0].source_id)
        return [_store_failed(sessions, submissions[0], exc)]


def _record_alone(sessions: sessionmaker[Session], rulebook: Rulebook, submission: Submission) -> Outcome | Exception:
    try:
        [outcome] = record_events(sessions, rulebook, [submission])
        return outcome
    except Exception as exc:  # noqa: BLE001 - it could not be stored even as failed: its caller alone hears
        log.exception("an event from source %s could not be stored", submission.source_id)
        return exc


def _store_and_credit(session: Session, rulebook: Rulebook, submissions: list[Submission]) -> list[Outcome]:
    """Credit the submissions, then store them as events with what became of them, in one
    transaction. The events' ids are reserved first, for their completions to name; a completion's
    reference to its event is checked at commit (deferred), when the event is there."""
    now = models.utcnow()
    connection = flushed_connection(session)
    dialect = connection.dialect
    reserve = reserve_ids(dialect, _EVENTS, len(submissions))
    event_ids, ahead = _reserve_reading_ahead(connection, submissions, reserve)
    if event_ids is None:
        event_ids = reserved_ids(dialect, driver_execute(connection, *reserve), len(submissions))
    stored = [StoredEvent(event_id, s.identity_id, s.parsed)
              for event_id, s in zip(event_ids, submissions, strict=True)]
    outcomes = credit_events(session, rulebook, stored, ahead)
    rows: list[dict[str, Any]] = [
        {"id": o.event_id, "source_id": s.source_id, "body": s.body, "content_type": s.content_type,
         "parsed": serialize(s.parsed), "status": o.status, "detail": {"items": o.items}, "received_at": now,
         "attempts": 1}
        for o, s in zip(outcomes, submissions, strict=True)
    ]
    execute_values(connection, _EVENTS, _EVENT_COLUMNS, bound_values(dialect, _EVENTS, _EVENT_COLUMNS, rows))
    return outcomes


_EVENT_COLUMNS = ("id", "source_id", "body", "content_type", "parsed", "status", "detail", "received_at", "attempts")


def _reserve_reading_ahead(connection: Connection, submissions: list[Submission], reserve: tuple[str, tuple[Any, ...]]
                           ) -> tuple[list[int] | None, ReadAhead | None]:
    """On PostgreSQL: the events' ids reserved with the learners' upsert and crediting's reads, in
    one round trip (:mod:`lti_tool.services.read_ahead`); ``(None, None)`` where that does not apply."""
    unsaved = [StoredEvent(0, s.identity_id, s.parsed) for s in submissions]
    seen = reported_learners(unsaved)
    if not read_ahead.fits(connection, len(seen)):
        return None, None
    reported = [(s.identity_id, item) for s in submissions for item in s.parsed if isinstance(item, Completion)]
    returned, ahead = read_ahead.reserve_and_read_ahead(
        connection, reserve, seen,
        [(learner, item.course_id) for learner, (_, item) in zip(seen, reported, strict=True) if item.once_per_course],
        {(identity_id, item.course_id) for identity_id, item in reported})
    return reserved_ids(connection.dialect, returned, len(submissions)), ahead


def _store_failed(sessions: sessionmaker[Session], submission: Submission, exc: Exception) -> Outcome:
    with write_session(sessions) as session:
        event = models.LmsEvent(
            source_id=submission.source_id, body=submission.body, content_type=submission.content_type,
            parsed=serialize(submission.parsed), status=models.EventStatus.FAILED,
            detail={"error": f"{type(exc).__name__}: {exc}"},
        )
        session.add(event)
        session.flush()
        return Outcome(models.EventStatus.QUEUED, event.id)


MAX_EVENT_ATTEMPTS = 10
"""An event whose processing failed this many times is ``parked`` with its last error (listed by
``lti-tool events parked``, retried by ``lti-tool events retry ID``) instead of retried each tick."""


def reprocess_failed(sessions: sessionmaker[Session], rulebook: Rulebook, limit: int = 100) -> list[Outcome]:
    """Retry events whose processing failed; each in its own transaction. One that fails for the
    :data:`MAX_EVENT_ATTEMPTS`-th time is parked."""
    with sessions() as session:
        ids = list(session.scalars(
            select(models.LmsEvent.id).where(RETRY_INDEXED, models.LmsEvent.status == models.EventStatus.FAILED)
            .order_by(models.LmsEvent.id).limit(limit)
        ))
    outcomes = []
    for event_id in ids:
        try:
            with write_session(sessions) as session:
                # Locked (PostgreSQL): a second scheduler retrying it meanwhile waits, then finds it
                # no longer failed, instead of recording the first's completions as duplicates.
                event = session.get(models.LmsEvent, event_id, with_for_update=True)
                if event is None or event.status != models.EventStatus.FAILED:
                    continue
                event.attempts += 1
                source = session.get(models.Source, event.source_id)
                assert source is not None
                [outcome] = credit_events(
                    session, rulebook, [StoredEvent(event.id, source.identity_id, deserialize(event.parsed))])
                event.status, event.detail = outcome.status, {"items": outcome.items}
                outcomes.append(outcome)
        except Exception as exc:  # noqa: BLE001 - recorded on the event, retried on the next tick
            log.exception("retrying event %s failed again", event_id)
            with write_session(sessions) as session:
                event = session.get(models.LmsEvent, event_id, with_for_update=True)
                if event is not None and event.status == models.EventStatus.FAILED:
                    event.attempts += 1
                    event.detail = {"error": f"{type(exc).__name__}: {exc}"}
                    if event.attempts >= MAX_EVENT_ATTEMPTS:
                        event.status = models.EventStatus.PARKED
                        log.error("event %s parked after %d failed attempts: %s", event_id,
                                  event.attempts, event.detail["error"])
    return outcomes


def parked_events(session: Session, source_ids: Collection[int] | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Events parked after repeated failures, oldest first, with their last error (of
    ``source_ids`` only, when given; at most ``limit``)."""
    query = select(models.LmsEvent).where(RETRY_INDEXED, models.LmsEvent.status == models.EventStatus.PARKED)
    if source_ids is not None:
        query = query.where(models.LmsEvent.source_id.in_(list(source_ids)))
    return [{"id": e.id, "source_id": e.source_id, "received_at": e.received_at.isoformat(),
             "attempts": e.attempts, "error": (e.detail or {}).get("error")}
            for e in session.scalars(query.order_by(models.LmsEvent.id).limit(limit))]


def unpark(session: Session, event_id: int, source_ids: Collection[int] | None = None) -> bool:
    """Put a parked event back in line (in the caller's transaction); ``False`` if it is not parked
    (or not of ``source_ids``, when given)."""
    event = session.get(models.LmsEvent, event_id)
    if event is None or event.status != models.EventStatus.PARKED:
        return False
    if source_ids is not None and event.source_id not in source_ids:
        return False
    event.status, event.attempts = models.EventStatus.FAILED, 0
    return True
