"""The append-only ledger: awards, their credit and reversal entries, and their outbox claims.

An award, its ledger entry and its outbox claim are written in the caller's transaction, together or
not at all. Nothing here updates or deletes a row: a correction is a reversing entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models, text
from lti_tool.credits import api
from lti_tool.db import flushed_connection
from lti_tool.row_inserts import covers_defaults
from lti_tool.row_writes import insert_many_or_skip, insert_rows
from lti_tool.services.ledger_statements import (
    AWARD_KEY,
    AWARDS,
    CLAIMS,
    ENTRIES,
    awards_with_entries,
    entries_with_claims,
)


class AwardNotFound(LookupError):
    pass


def idempotency_key(credential: str, award_id: int, kind: str, amount: Decimal) -> str:
    """The key a claim travels with: derived from the award and its content, stable across retries."""
    before, after = _key_around_id(credential, kind, amount)
    return hashlib.sha256(f"{before}{award_id}{after}".encode()).hexdigest()


def _key_around_id(credential: str, kind: str, amount: Decimal) -> tuple[str, str]:
    """The text :func:`idempotency_key` hashes, before and after the award's id (a statement that
    draws the id puts it between them: :func:`~lti_tool.services.ledger_statements.awards_with_entries`)."""
    return f"{credential}|", f"|{kind}|{amount}"


def activity_facts(activity: api.Activity) -> dict[str, object]:
    """The activity as JSON-able facts, kept with the award as evidence."""
    facts = {f.name: getattr(activity, f.name) for f in dataclasses.fields(activity)}  # flat: no deep copy
    facts["approved_by"] = sorted(activity.approved_by)
    facts["hours"] = None if activity.hours is None else str(activity.hours)
    return facts


class CompletionFacts(Protocol):
    """What crediting needs of a completion (a model row, or the values just inserted)."""

    @property
    def id(self) -> int: ...
    @property
    def learner_id(self) -> int: ...
    @property
    def source_id(self) -> int: ...
    @property
    def course_id(self) -> str: ...
    @property
    def completed_at(self) -> datetime: ...
    @property
    def measured_minutes(self) -> int | None: ...


@dataclass(frozen=True)
class KnownCompletion:
    """:class:`CompletionFacts` without a model row: a completion just inserted, or an award's."""

    id: int
    learner_id: int
    source_id: int
    course_id: str
    completed_at: datetime
    measured_minutes: int | None


@dataclass(frozen=True)
class NewAward:
    """An award a plugin granted, with what it is kept with as evidence."""

    completion: CompletionFacts
    result: api.Award
    activity: api.Activity
    rule_version: str
    settings: dict[str, str]
    revision: int = 0
    key: api.RepeatKey | None = None
    """The plugin's retake key; ``None`` keys the award by its completion alone (no retake policy:
    used only where the caller carries no rule, such as fixtures)."""

    def repeat_key(self) -> api.RepeatKey:
        if self.key is not None:
            return self.key
        return api.RepeatKey(f"course:{self.completion.course_id}", f"completion:{self.completion.id}",
                             "this completion")




def record_awards(session: Session, awards: list[NewAward]) -> list[int | None]:
    """Append awards with their credit entries and outbox claims, a few statements for all of
    them; return each award's id in the order given, or ``None`` where it was awarded already:
    for the same completion, or for the same course in the same period (either unique key)."""
    for new in awards:
        if not isinstance(new.result.amount, Decimal):
            raise TypeError("a plugin returned a non-Decimal amount")
    now = models.utcnow()
    evidence = _Evidence()
    rows = [_award_row(new, now, evidence) for new in awards]
    connection = flushed_connection(session)
    if connection.dialect.name == "postgresql" and rows and covers_defaults(AWARDS, tuple(rows[0])):
        return awards_with_entries(connection, rows, [
            _key_around_id(new.result.credential, models.EntryKind.CREDIT, new.result.amount) for new in awards])
    ids = insert_many_or_skip(session, models.Award.__table__, rows, AWARD_KEY, any_conflict=True)
    _append_entries(session, [
        _Entry(award_id, new.result.credential, models.EntryKind.CREDIT, new.result.amount, new.result.reason)
        for award_id, new in zip(ids, awards, strict=True) if award_id is not None
    ])
    return ids


class _Evidence:
    """The JSON-able facts of each activity and the tags of each result, made once per object: the
    awards of one set share a few activities and results (one per course mapping), and the same
    object then binds its JSON once (:mod:`lti_tool.row_inserts`)."""

    def __init__(self) -> None:
        self._facts: dict[int, tuple[api.Activity, dict[str, object]]] = {}
        self._tags: dict[int, tuple[api.Award, list[str]]] = {}

    def facts(self, activity: api.Activity) -> dict[str, object]:
        known = self._facts.get(id(activity))
        if known is None:  # the tuple keeps the activity alive, so its id is not reused
            known = self._facts[id(activity)] = (activity, activity_facts(activity))
        return known[1]

    def tags(self, result: api.Award) -> list[str]:
        known = self._tags.get(id(result))
        if known is None:
            known = self._tags[id(result)] = (result, sorted(result.tags))
        return known[1]


def record_award(
    session: Session,
    completion: CompletionFacts,
    result: api.Award,
    *,
    activity: api.Activity,
    rule_version: str,
    settings: dict[str, str],
    revision: int = 0,
    key: api.RepeatKey | None = None,
) -> int | None:
    """:func:`record_awards` for one award."""
    return record_awards(
        session, [NewAward(completion, result, activity, rule_version, settings, revision, key)])[0]


def _award_row(new: NewAward, now: datetime, evidence: _Evidence) -> dict[str, object]:
    completion, result, key = new.completion, new.result, new.repeat_key()
    return {
        "completion_id": completion.id,
        "learner_id": completion.learner_id,
        "source_id": completion.source_id,
        "course_id": completion.course_id,
        "credential": result.credential,
        "course_key": key.course,
        "period": key.period,
        "revision": new.revision,
        "amount": result.amount,
        "unit": result.unit,
        "category": result.category,
        "index_number": result.index_number,
        "reason": result.reason,
        "tags": evidence.tags(result),
        "minutes": new.activity.minutes,
        "activity": evidence.facts(new.activity),
        "rule_version": new.rule_version,
        "settings": new.settings,
        "completed_at": completion.completed_at,
        "created_at": now,
    }


REASON_LIMIT = 1000
"""A ledger entry's reason column."""


def revoke_award(session: Session, award_id: int, reason: str) -> models.LedgerEntry | None:
    """Reverse an award; ``None`` if it was reversed already (revoking twice reverses once)."""
    award = session.get(models.Award, award_id)
    if award is None:
        raise AwardNotFound(f"no award with id {award_id}")
    if not reason.strip():
        raise ValueError("a revocation needs a reason")
    reason = text.checked(reason, "reason", REASON_LIMIT)  # one line: it is sent with the retraction
    [entry_id] = _append_entries(
        session, [_Entry(award.id, award.credential, models.EntryKind.REVERSAL, -award.amount, reason)])
    return None if entry_id is None else session.get(models.LedgerEntry, entry_id)


@dataclass(frozen=True)
class _Entry:
    award_id: int
    credential: str
    kind: str
    amount: Decimal
    reason: str


def _append_entries(session: Session, entries: list[_Entry]) -> list[int | None]:
    """Append ledger entries and an outbox claim for each new one; ``None`` where the award has
    that kind of entry already."""
    now = models.utcnow()
    rows = [{"award_id": e.award_id, "kind": e.kind, "amount": e.amount, "reason": e.reason, "created_at": now}
            for e in entries]
    claims = [{"credential": e.credential, "created_at": now,
               "idempotency_key": idempotency_key(e.credential, e.award_id, e.kind, e.amount)} for e in entries]
    connection = flushed_connection(session)
    if connection.dialect.name == "postgresql" and entries:
        return entries_with_claims(connection, rows, claims)
    ids = insert_many_or_skip(session, ENTRIES, rows, ("award_id", "kind"))
    insert_rows(session, CLAIMS, [{"ledger_entry_id": entry_id, **claim}
                                   for entry_id, claim in zip(ids, claims, strict=True) if entry_id is not None])
    return ids


def revoked_award_ids(session: Session, award_ids: list[int]) -> set[int]:
    if not award_ids:
        return set()
    rows = session.scalars(
        select(models.LedgerEntry.award_id).where(
            models.LedgerEntry.award_id.in_(award_ids), models.LedgerEntry.kind == models.EntryKind.REVERSAL
        )
    )
    return set(rows)
