"""Crediting what stored events report: their learners, completions and awards, set by set.

Several events are credited with a few multi-row statements rather than a dozen statements each:
every learner of the events in one upsert, every completion in one insert, every award, ledger entry
and outbox claim in one insert each. Unique constraints still decide what is new (``ON CONFLICT DO
NOTHING``), so a completion reported twice, in one set or in two, is credited once. A completion
an LMS re-fires with a later time (Canvas) is recorded under its first time, so it is reported twice
too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits.registry import Rulebook
from lti_tool.db import flushed_connection, table_of
from lti_tool.events.completion import Completion, Ignored, ParsedEvent
from lti_tool.row_writes import insert_many_or_skip
from lti_tool.services.crediting import CreditOutcome, MappingRow, credit_completions, find_mapping_terms
from lti_tool.services.learners import LearnerKey, SeenLearner, record_learners
from lti_tool.services.ledger import KnownCompletion
from lti_tool.services.read_ahead import ReadAhead

# When one request carries several statements, the answer names the most telling status.
STATUS_ORDER = (models.EventStatus.CREDITED, models.EventStatus.UNMAPPED, models.EventStatus.REFUSED,
                models.EventStatus.ALREADY_CREDITED, models.EventStatus.DUPLICATE, models.EventStatus.IGNORED)


@dataclass(frozen=True)
class StoredEvent:
    """An event already stored, and the source whose learner and course ids it names."""

    id: int
    identity_id: int
    parsed: list[ParsedEvent]


@dataclass(frozen=True)
class Outcome:
    status: models.EventStatus
    event_id: int
    items: list[dict[str, Any]] = field(default_factory=list)


def reported_learners(events: list[StoredEvent]) -> list[SeenLearner]:
    """The learner of each completion the events report, in order."""
    return [SeenLearner(LearnerKey(event.identity_id, item.lms_user_id), item.learner_name, item.learner_email)
            for event in events for item in event.parsed if isinstance(item, Completion)]


def credit_events(session: Session, rulebook: Rulebook, events: list[StoredEvent],
                  ahead: ReadAhead | None = None, award_log_level: int = logging.INFO) -> list[Outcome]:
    """Record the learners and completions the events report and credit the new completions, in
    the caller's transaction; one outcome per event, in order. ``ahead``: the learners recorded and
    what crediting reads, done already (:func:`lti_tool.services.read_ahead.reserve_and_read_ahead`).
    ``award_log_level``: of the line logged for each award."""
    reported = [(event, item) for event in events for item in event.parsed if isinstance(item, Completion)]
    now = models.utcnow()
    mappings: dict[tuple[int, str], MappingRow | None] = {}
    if ahead is None:
        learner_ids = record_learners(session, reported_learners(events))
        first_times = _first_times(session, [(learner_id, item) for learner_id, (_, item) in zip(
            learner_ids, reported, strict=True) if item.once_per_course])
    else:
        learner_ids, mappings = ahead.learner_ids, dict(ahead.mappings)
        first_times = _earliest(dict(ahead.first_times), [(learner_id, item) for learner_id, (_, item) in zip(
            learner_ids, reported, strict=True) if item.once_per_course])
    completion_ids = insert_many_or_skip(
        session,
        models.CourseCompletion.__table__,
        [{"learner_id": learner_id, "source_id": event.identity_id, "course_id": item.course_id,
          "course_name": item.course_name,
          "completed_at": first_times.get((learner_id, item.course_id), item.completed_at),
          "measured_minutes": item.measured_minutes, "event_id": event.id, "created_at": now}
         for learner_id, (event, item) in zip(learner_ids, reported, strict=True)],
        ("learner_id", "course_id", "completed_at"),
    )
    results: dict[int, dict[str, Any]] = {}
    to_credit: list[tuple[int, KnownCompletion, MappingRow]] = []
    for index, (completion_id, learner_id, (event, item)) in enumerate(
            zip(completion_ids, learner_ids, reported, strict=True)):
        base = {"user": item.lms_user_id, "course": item.course_id}
        if completion_id is None:
            results[index] = {**base, "status": models.EventStatus.DUPLICATE}
            continue
        key = (event.identity_id, item.course_id)
        if key not in mappings:
            mappings[key] = find_mapping_terms(session, *key)
        mapping = mappings[key]
        if mapping is None:
            results[index] = {**base, "status": models.EventStatus.UNMAPPED}
            continue
        to_credit.append((index, KnownCompletion(completion_id, learner_id, event.identity_id, item.course_id,
                                               item.completed_at, item.measured_minutes), mapping))
    credited = credit_completions(session, [(c, m) for _, c, m in to_credit], rulebook,
                                  None if ahead is None else ahead.holdings, award_log_level)
    for (index, _, _), outcome in zip(to_credit, credited, strict=True):
        item = reported[index][1]
        results[index] = _credited(item, outcome)
    return _outcomes(events, results)


_COMPLETIONS = table_of(models.CourseCompletion)
_FIRST_TIMES = (
    select(_COMPLETIONS.c.learner_id, _COMPLETIONS.c.course_id, func.min(_COMPLETIONS.c.completed_at))
    .where(_COMPLETIONS.c.learner_id.in_(bindparam("learner_ids", expanding=True)),
           _COMPLETIONS.c.course_id.in_(bindparam("course_ids", expanding=True)))
    .group_by(_COMPLETIONS.c.learner_id, _COMPLETIONS.c.course_id)
)
"""Built once, as a Core statement run on the connection: it runs in every batch of events, and
building it per batch (its ``IN`` lists, its cache key) cost more than the query."""


def _first_times(session: Session, items: list[tuple[int, Completion]]) -> dict[tuple[int, str], datetime]:
    """For completions an LMS re-fires with later times (:attr:`Completion.once_per_course`): the
    time each (learner, course) was first completed at, stored or earlier in these items. Recorded
    under it, a re-fire meets the completions' unique key and is a duplicate: the key decides."""
    if not items:
        return {}
    first: dict[tuple[int, str], datetime] = {}
    rows = flushed_connection(session).execute(_FIRST_TIMES, {
        "learner_ids": sorted({learner_id for learner_id, _ in items}),
        "course_ids": sorted({item.course_id for _, item in items}),
    })
    for learner_id, course_id, when in rows:
        first[(learner_id, course_id)] = when
    return _earliest(first, items)


def _earliest(stored: dict[tuple[int, str], datetime],
              items: list[tuple[int, Completion]]) -> dict[tuple[int, str], datetime]:
    """The stored first times, and for a (learner, course) with none stored, its first in ``items``."""
    for learner_id, item in items:
        stored.setdefault((learner_id, item.course_id), item.completed_at)
    return stored


def _credited(item: Completion, outcome: CreditOutcome) -> dict[str, Any]:
    return {"user": item.lms_user_id, "course": item.course_id, "status": outcome.status, **outcome.detail()}


def _outcomes(events: list[StoredEvent], results: dict[int, dict[str, Any]]) -> list[Outcome]:
    """Each event's items in its own order, and the most telling status among them."""
    outcomes: list[Outcome] = []
    index = 0
    for event in events:
        items: list[dict[str, Any]] = []
        for item in event.parsed:
            if isinstance(item, Ignored):
                items.append({"status": models.EventStatus.IGNORED, "reason": item.reason})
            else:
                items.append(results[index])
                index += 1
        statuses = {item["status"] for item in items} or {models.EventStatus.IGNORED}
        outcomes.append(Outcome(next(s for s in STATUS_ORDER if s in statuses), event.id, items))
    return outcomes
