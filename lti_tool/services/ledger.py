"""The append-only ledger: awards, their credit and reversal entries, and their outbox claims.

An award, its ledger entry and its outbox claim are written in the caller's transaction, together or
not at all. Nothing here updates or deletes a row: a correction is a reversing entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.db import insert_or_skip


_OUTBOX_INSERT = insert(models.OutboxClaim.__table__)
"""Built once: the values come as parameters (building a statement per claim cost more than the
database work)."""


class AwardNotFound(LookupError):
    pass


def idempotency_key(credential: str, award_id: int, kind: str, amount: Decimal) -> str:
    """The key a claim travels with: derived from the award and its content, stable across retries."""
    return hashlib.sha256(f"{credential}|{award_id}|{kind}|{amount}".encode()).hexdigest()


def activity_facts(activity: api.Activity) -> dict[str, object]:
    """The activity as JSON-able facts, kept with the award as evidence."""
    facts = dataclasses.asdict(activity)
    facts["approved_by"] = sorted(activity.approved_by)
    facts["hours"] = None if activity.hours is None else str(activity.hours)
    return facts


class CompletionFacts(Protocol):
    """What crediting needs of a completion (a model row, or the values just inserted)."""

    id: int
    learner_id: int
    source_id: int
    course_id: str
    completed_at: datetime
    measured_minutes: int | None


def record_award(
    session: Session,
    completion: CompletionFacts,
    result: api.Award,
    *,
    activity: api.Activity,
    rule_version: str,
    settings: dict[str, str],
    revision: int = 0,
) -> int | None:
    """Append an award with its credit entry and outbox claim; return its id, or ``None`` if it
    was awarded already."""
    if not isinstance(result.amount, Decimal):
        raise TypeError("a plugin returned a non-Decimal amount")
    award_id = insert_or_skip(
        session,
        models.Award.__table__,
        {
            "completion_id": completion.id,
            "learner_id": completion.learner_id,
            "source_id": completion.source_id,
            "course_id": completion.course_id,
            "credential": result.credential,
            "revision": revision,
            "amount": result.amount,
            "unit": result.unit,
            "category": result.category,
            "index_number": result.index_number,
            "reason": result.reason,
            "tags": sorted(result.tags),
            "minutes": activity.minutes,
            "activity": activity_facts(activity),
            "rule_version": rule_version,
            "settings": settings,
            "completed_at": completion.completed_at,
            "created_at": models.utcnow(),
        },
        ["completion_id", "credential", "revision"],
    )
    if award_id is None:
        return None
    _append_entry(session, award_id, result.credential, "credit", result.amount, result.reason)
    return award_id


def revoke_award(session: Session, award_id: int, reason: str) -> models.LedgerEntry | None:
    """Reverse an award; ``None`` if it was reversed already (revoking twice reverses once)."""
    award = session.get(models.Award, award_id)
    if award is None:
        raise AwardNotFound(f"no award with id {award_id}")
    if not reason.strip():
        raise ValueError("a revocation needs a reason")
    entry_id = _append_entry(session, award.id, award.credential, "reversal", -award.amount, reason)
    return None if entry_id is None else session.get(models.LedgerEntry, entry_id)


def _append_entry(
    session: Session, award_id: int, credential: str, kind: str, amount: Decimal, reason: str
) -> int | None:
    entry_id = insert_or_skip(
        session,
        models.LedgerEntry.__table__,
        {
            "award_id": award_id,
            "kind": kind,
            "amount": amount,
            "reason": reason,
            "created_at": models.utcnow(),
        },
        ["award_id", "kind"],
    )
    if entry_id is None:
        return None
    session.execute(
        _OUTBOX_INSERT,
        {
            "ledger_entry_id": entry_id,
            "credential": credential,
            "idempotency_key": idempotency_key(credential, award_id, kind, amount),
            "created_at": models.utcnow(),
        },
    )
    return entry_id


def revoked_award_ids(session: Session, award_ids: list[int]) -> set[int]:
    if not award_ids:
        return set()
    rows = session.scalars(
        select(models.LedgerEntry.award_id).where(
            models.LedgerEntry.award_id.in_(award_ids), models.LedgerEntry.kind == "reversal"
        )
    )
    return set(rows)
