"""A claim as exporters see it: one ledger entry with everything a certifying body asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lti_tool.states import EntryKind


@dataclass(frozen=True)
class Claim:
    idempotency_key: str
    entry_kind: EntryKind
    """``credit`` for an award, ``reversal`` for its revocation (a negative amount)."""
    award_id: int
    credential: str
    learner_lms_id: str
    learner_name: str | None
    learner_email: str | None
    member_number: str | None
    source: str
    course_id: str
    course_title: str | None
    completed_at: datetime
    minutes: int
    amount: Decimal
    unit: str
    category: str | None
    index_number: str | None
    rule_version: str
    verify_code: str | None = None
    """The code of the award's certificate (``/verify/<code>``), made when the claim is batched."""


@dataclass(frozen=True)
class Rendered:
    """An exporter's output: what a destination delivers."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class StatementFor:
    """Whom a statement is for, when it is not read off its first claim (a learner whose only
    credit in the cycle was earned outside the LMS)."""

    learner: str
    email: str | None
    credential: str
    member_number: str | None

    @classmethod
    def of(cls, claim: Claim) -> StatementFor:
        return cls(claim.learner_name or claim.learner_lms_id, claim.learner_email, claim.credential,
                   claim.member_number)
