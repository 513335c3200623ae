"""Reading the ledger: awards with their learner, course and whether they were revoked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.services.ledger import revoked_award_ids


def list_awards(
    session: Session, *, identity_id: int | None = None, user: str | None = None,
    course: str | None = None,
) -> list[dict[str, Any]]:
    """Awards, oldest first; ``identity_id`` is a resolved identity source
    (:func:`lti_tool.services.learners.identity_of`)."""
    query = (
        select(models.Award, models.Learner)
        .join(models.Learner, models.Learner.id == models.Award.learner_id)
        .order_by(models.Award.id)
    )
    if identity_id is not None:
        query = query.where(models.Award.source_id == identity_id)
    if user is not None:
        query = query.where(models.Learner.lms_user_id == user)
    if course is not None:
        query = query.where(models.Award.course_id == course)
    rows = list(session.execute(query))
    revoked = revoked_award_ids(session, [award.id for award, _ in rows])
    return [
        {
            "id": award.id,
            "credential": award.credential,
            "amount": str(award.amount),
            "unit": award.unit,
            "category": award.category,
            "index_number": award.index_number,
            "course": award.course_id,
            "source_id": award.source_id,
            "learner": learner.lms_user_id,
            "learner_name": learner.name,
            "minutes": award.minutes,
            "completed_at": award.completed_at.isoformat(),
            "rule_version": award.rule_version,
            "reason": award.reason,
            "revision": award.revision,
            "revoked": award.id in revoked,
        }
        for award, learner in rows
    ]
