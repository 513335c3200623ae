"""Claims as exporters see them: outbox rows joined with the ledger entry, award, learner, the
learner's member/licence number and the course mapping's title, in outbox order. Every free text
is one line (:func:`lti_tool.text.one_line`): a name cannot forge lines in a remittance e-mail,
a subject or a text file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.exports.claim import Claim
from lti_tool.text import one_line


def _line(value: str | None) -> str | None:
    return None if value is None else one_line(value)


def batch_claims(session: Session, batch_id: int) -> list[Claim]:
    return claims_where(session, models.OutboxClaim.batch_id == batch_id)


def claims_where(session: Session, *where: Any) -> list[Claim]:
    rows = session.execute(
        select(models.OutboxClaim, models.LedgerEntry, models.Award, models.Learner, models.Source,
               models.LearnerCredential.number, models.CourseMapping.title)
        .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
        .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
        .join(models.Learner, models.Learner.id == models.Award.learner_id)
        .join(models.Source, models.Source.id == models.Award.source_id)
        .outerjoin(models.LearnerCredential, and_(
            models.LearnerCredential.learner_id == models.Learner.id,
            models.LearnerCredential.credential == models.Award.credential))
        .outerjoin(models.CourseMapping, and_(
            models.CourseMapping.source_id == models.Award.source_id,
            models.CourseMapping.course_id == models.Award.course_id))
        .where(*where)
        .order_by(models.OutboxClaim.id)
    )
    return [
        Claim(
            idempotency_key=claim.idempotency_key, entry_kind=entry.kind, award_id=award.id,
            credential=award.credential, learner_lms_id=one_line(learner.lms_user_id),
            learner_name=_line(learner.name), learner_email=_line(learner.email),
            member_number=_line(number), source=one_line(source.name),
            course_id=one_line(award.course_id), course_title=_line(title),
            completed_at=award.completed_at, minutes=award.minutes, amount=entry.amount,
            unit=award.unit, category=_line(award.category), index_number=_line(award.index_number),
            rule_version=award.rule_version,
        )
        for claim, entry, award, learner, source, number, title in rows
    ]
