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


def credit_claims(session: Session, award_id: int) -> list[Claim]:
    """The claim of an award's credit entry (what a signed credential states), if it has one."""
    return claims_where(session, models.Award.id == award_id, models.LedgerEntry.kind == models.EntryKind.CREDIT)


def claims_where(session: Session, *where: Any) -> list[Claim]:
    """Columns, not ORM objects: a batch holds hundreds of claims and an audit packet thousands, and
    loading seven objects per row was most of an export tick's time."""
    m = models
    rows = session.execute(
        select(m.OutboxClaim.idempotency_key, m.LedgerEntry.kind, m.Award.id, m.Award.credential,
               m.Learner.lms_user_id, m.Learner.name, m.Learner.email, m.LearnerCredential.number,
               m.Source.name, m.Award.course_id, m.CourseMapping.title, m.Award.completed_at,
               m.Award.minutes, m.LedgerEntry.amount, m.Award.unit, m.Award.category,
               m.Award.index_number, m.Award.rule_version, m.CertificateCode.code)
        .join(m.LedgerEntry, m.LedgerEntry.id == m.OutboxClaim.ledger_entry_id)
        .join(m.Award, m.Award.id == m.LedgerEntry.award_id)
        .join(m.Learner, m.Learner.id == m.Award.learner_id)
        .join(m.Source, m.Source.id == m.Award.source_id)
        .outerjoin(m.LearnerCredential, and_(
            m.LearnerCredential.learner_id == m.Learner.id,
            m.LearnerCredential.credential == m.Award.credential))
        .outerjoin(m.CourseMapping, and_(
            m.CourseMapping.source_id == m.Award.source_id,
            m.CourseMapping.course_id == m.Award.course_id))
        .outerjoin(m.CertificateCode, m.CertificateCode.award_id == m.Award.id)
        .where(*where)
        .order_by(m.OutboxClaim.id)
    )
    return [
        Claim(
            idempotency_key=key, entry_kind=models.EntryKind(kind), award_id=award_id, credential=credential,
            learner_lms_id=one_line(lms_id), learner_name=_line(name), learner_email=_line(email),
            member_number=_line(number), source=one_line(source), course_id=one_line(course_id),
            course_title=_line(title), completed_at=completed_at, minutes=minutes, amount=amount, unit=unit,
            category=_line(category), index_number=_line(index_number), rule_version=rule_version,
            verify_code=code,
        )
        for (key, kind, award_id, credential, lms_id, name, email, number, source, course_id, title,
             completed_at, minutes, amount, unit, category, index_number, rule_version, code) in rows
    ]
