"""Reading the ledger: awards with their learner, course and whether they were revoked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from lti_tool import models


def list_awards(
    session: Session, *, identity_id: int | None = None, user: str | None = None,
    course: str | None = None,
) -> list[dict[str, Any]]:
    """The awards, oldest first; ``identity_id`` is a resolved identity source
    (:func:`lti_tool.services.learners.identity_of`). Read as columns, with whether each was revoked
    decided in the same query: a course page lists tens of thousands, and ORM objects (with their JSON
    columns decoded) plus an ``IN`` list of every id cost more than the page itself."""
    a, learner = models.Award, models.Learner
    revoked = exists().where(models.LedgerEntry.award_id == a.id, models.LedgerEntry.kind == models.EntryKind.REVERSAL)
    query = (
        select(a.id, a.credential, a.amount, a.unit, a.category, a.index_number, a.course_id, a.source_id,
               learner.lms_user_id, learner.name, a.minutes, a.completed_at, a.rule_version, a.reason,
               a.revision, revoked.label("revoked"))
        .join(learner, learner.id == a.learner_id)
        .order_by(a.id)
    )
    if identity_id is not None:
        query = query.where(a.source_id == identity_id)
    if user is not None:
        query = query.where(learner.lms_user_id == user)
    if course is not None:
        query = query.where(a.course_id == course)
    return [
        {
            "id": row.id,
            "credential": row.credential,
            "amount": str(row.amount),
            "unit": row.unit,
            "category": row.category,
            "index_number": row.index_number,
            "course": row.course_id,
            "source_id": row.source_id,
            "learner": row.lms_user_id,
            "learner_name": row.name,
            "minutes": row.minutes,
            "completed_at": row.completed_at.isoformat(),
            "rule_version": row.rule_version,
            "reason": row.reason,
            "revision": row.revision,
            "revoked": bool(row.revoked),
        }
        for row in session.execute(query)
    ]


class StandingAward(NamedTuple):
    """A learner's award that stands (not revoked), as the learner's page lists its certificate."""

    id: int
    credential: str
    course: str
    amount: Decimal
    unit: str
    completed_on: str
    """The completion's UTC date, ``YYYY-MM-DD``."""


def standing_awards(session: Session, *, identity_id: int, user: str) -> list[StandingAward]:
    """The awards of ``user`` (of the resolved identity source ``identity_id``) that stand, oldest
    first: :func:`list_awards` of that learner without the revoked ones, read as the six columns a
    certificate row shows (the learner page lists hundreds on every view)."""
    a, learner = models.Award, models.Learner
    revoked = exists().where(models.LedgerEntry.award_id == a.id, models.LedgerEntry.kind == models.EntryKind.REVERSAL)
    query = (
        select(a.id, a.credential, a.course_id, a.amount, a.unit, a.completed_at)
        .join(learner, learner.id == a.learner_id)
        .where(a.source_id == identity_id, learner.lms_user_id == user, ~revoked)
        .order_by(a.id)
    )
    return [StandingAward(award_id, credential, course, amount, unit, completed_at.date().isoformat())
            for award_id, credential, course, amount, unit, completed_at in session.execute(query)]
