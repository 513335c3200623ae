"""Certificate verification: an unguessable code per award, and what ``/verify/<code>`` shows.

The page is public, so it shows what the certificate itself shows a reader and no more: the
learner's name, the course, the date, the credit, the credential and its body, the issuer and the
status. Never an e-mail address, a licence number or an LMS id.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits.registry import Rulebook, UnknownCredential
from lti_tool.credits.rounding import normalized
from lti_tool.row_writes import insert_many_or_skip
from lti_tool.services.crediting import find_mapping
from lti_tool.services.learners import LearnerKey

CODE_BYTES = 18
"""144 random bits: far beyond guessing, even at a rate limit's worth of tries for years (a multiple
of 3, so each code is whole base64 groups, cut from one encoding of many codes' bytes)."""


@dataclass(frozen=True)
class Verification:
    learner_name: str
    course: str
    completed_on: date
    amount: str
    unit: str
    credential: str
    body: str
    issuer: str
    revoked_on: date | None

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_on is not None else "valid"


def ensure_codes(session: Session, award_ids: list[int]) -> None:
    """Give each award a code unless it has one (the unique award_id decides, not a prior read),
    so exported and packed certificates carry the same code as the learner's download."""
    now = models.utcnow()
    ids = sorted(set(award_ids))
    insert_many_or_skip(session, models.CertificateCode.__table__,
                        [{"award_id": award_id, "code": code, "created_at": now}
                         for award_id, code in zip(ids, new_codes(len(ids)), strict=True)], ("award_id",))


def new_codes(count: int) -> list[str]:
    """``count`` codes as :func:`secrets.token_urlsafe` makes them (``CODE_BYTES`` random bytes,
    URL-safe base64 without padding), from one read of the system's random source."""
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(CODE_BYTES * count)).decode("ascii")
    width = CODE_BYTES * 4 // 3  # whole 3-byte groups: each code is its own 24 characters
    return [encoded[start:start + width] for start in range(0, len(encoded), width)]


def ensure_learner_codes(session: Session, key: LearnerKey, credential: str) -> None:
    """Codes for every award of a learner toward a credential (before an audit packet is built)."""
    ensure_codes(session, list(session.scalars(
        select(models.Award.id).join(models.Learner, models.Learner.id == models.Award.learner_id)
        .where(models.Learner.source_id == key.identity_id, models.Learner.lms_user_id == key.lms_user_id,
               models.Award.credential == credential))))


def code_for(session: Session, award_id: int) -> str:
    """The award's code, made on first use; concurrent callers agree on one (unique award_id)."""
    ensure_codes(session, [award_id])
    code = session.scalar(select(models.CertificateCode.code).where(
        models.CertificateCode.award_id == award_id))
    assert code is not None
    return code


def verify(session: Session, rulebook: Rulebook, code: str, issuer: str) -> Verification | None:
    """What the certificate with this code states, or ``None`` if no certificate has it."""
    row = session.execute(
        select(models.Award, models.Learner)
        .join(models.CertificateCode, models.CertificateCode.award_id == models.Award.id)
        .join(models.Learner, models.Learner.id == models.Award.learner_id)
        .where(models.CertificateCode.code == code)
    ).first()
    if row is None:
        return None
    award, learner = row
    reversed_at = session.scalar(select(models.LedgerEntry.created_at).where(
        models.LedgerEntry.award_id == award.id, models.LedgerEntry.kind == "reversal"))
    mapping = find_mapping(session, award.source_id, award.course_id)
    try:
        rule = rulebook.get(award.credential)
        credential, body = f"{rule.title} ({award.credential})", rule.body
    except UnknownCredential:
        credential, body = award.credential, award.credential
    return Verification(
        learner_name=learner.name or "(name not given by the LMS)",
        course=mapping.title if mapping is not None and mapping.title else f"Course {award.course_id}",
        completed_on=award.completed_at.date(), amount=str(normalized(award.amount)), unit=award.unit,
        credential=credential, body=body, issuer=issuer,
        revoked_on=reversed_at.date() if reversed_at is not None else None,
    )
