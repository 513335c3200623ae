"""Claims as exporters see them: outbox rows joined with the ledger entry, award, learner, the
learner's member/licence number and the course mapping's title, in outbox order. Every free text
is one line (:func:`lti_tool.text.one_line`): a name cannot forge lines in a remittance e-mail,
a subject or a text file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.exports.claim import Claim
from lti_tool.text import one_line

ClaimRows = Sequence[Sequence[Any]]
"""Rows of :func:`_claims_select`, for :func:`claims_of`."""


def _claims_select() -> Select[*tuple[Any, ...]]:
    m = models
    return (
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
        .order_by(m.OutboxClaim.id)
    )


BATCH_CLAIMS = _claims_select().where(models.OutboxClaim.batch_id == bindparam("batch_id"))
"""Built once: a tick reads the claims of every batch it delivers."""


def batch_claims(session: Session, batch_id: int) -> list[Claim]:
    return claims_of(batch_rows(session, batch_id))


def batch_rows(session: Session, batch_id: int) -> ClaimRows:
    """A batch's claims as rows, for :func:`claims_of` (the tick reads them in the transaction that
    leases the batch, and makes them claims after its commit)."""
    return _rows(session, BATCH_CLAIMS, {"batch_id": batch_id})


def credit_claims(session: Session, award_id: int) -> list[Claim]:
    """The claim of an award's credit entry (what a signed credential states), if it has one."""
    return claims_where(session, models.Award.id == award_id, models.LedgerEntry.kind == models.EntryKind.CREDIT)


def claims_where(session: Session, *where: Any) -> list[Claim]:
    """The claims matching ``where``, in outbox order."""
    return _claims(session, _claims_select().where(*where), {})


def _claims(session: Session, query: Select[*tuple[Any, ...]], parameters: dict[str, Any]) -> list[Claim]:
    return claims_of(_rows(session, query, parameters))


def _rows(session: Session, query: Select[*tuple[Any, ...]], parameters: dict[str, Any]) -> ClaimRows:
    """Columns, not ORM objects, read through the session's connection (no ORM row handling): a
    batch holds hundreds of claims and an audit packet thousands, and loading seven objects per row
    was most of an export tick's time."""
    if session.autoflush:
        session.flush()  # what session.execute would do before reading
    return session.connection().execute(query, parameters).all()


def claims_of(rows: ClaimRows) -> list[Claim]:
    """The claims of rows read by this module's query. A text that recurs across the rows (a course
    title, the source, a learner's name on each of their claims) is made one line once."""
    line = _OneLine()
    kinds: dict[Any, models.EntryKind] = {kind.value: kind for kind in models.EntryKind}
    return [
        Claim(
            idempotency_key=key, entry_kind=kinds.get(kind) or models.EntryKind(kind), award_id=award_id,
            credential=credential, learner_lms_id=line[lms_id], learner_name=line[name], learner_email=line[email],
            member_number=line[number], source=line[source], course_id=line[course_id],
            course_title=line[title], completed_at=completed_at, minutes=minutes, amount=amount, unit=unit,
            category=line[category], index_number=line[index_number], rule_version=rule_version,
            verify_code=code,
        )
        for (key, kind, award_id, credential, lms_id, name, email, number, source, course_id, title,
             completed_at, minutes, amount, unit, category, index_number, rule_version, code) in rows
    ]


class _OneLine(dict[Any, Any]):
    """:func:`one_line` of each text looked up (``None`` stays ``None``), made once per distinct
    text; a text seen before is a plain dictionary lookup (a claim has nine texts, a batch hundreds
    of claims)."""

    def __init__(self) -> None:
        super().__init__({None: None})

    def __missing__(self, value: Any) -> Any:
        made = self[value] = one_line(value)
        return made
