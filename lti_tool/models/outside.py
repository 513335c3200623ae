"""Credit a learner earned outside the LMS and recorded here (ACMPE's "Claim My Additional Credit")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Credit, Id, UtcDateTime, utcnow
from lti_tool.states import OutsideStatus

OUTSIDE_STATES = tuple(status.value for status in OutsideStatus)


class OutsideCredit(Base):
    """An outside activity converted by the credential's plugin like any other.

    ``self-reported`` until an administrator verifies (or rejects) it; it counts toward progress
    unless rejected, and is never an award of the tool's: no ledger entry, no outbox claim, never
    exported as the tool's claim. The unique key makes recording the same activity twice harmless.
    """

    __tablename__ = "outside_credits"
    __table_args__ = (UniqueConstraint("learner_id", "credential", "title", "provider", "activity_on",
                                       name="uq_outside_credits_learner_activity"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    credential: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    provider: Mapped[str] = mapped_column(String(500))
    activity_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    activity: Mapped[dict[str, Any]] = mapped_column(JSON)
    amount: Mapped[Decimal] = mapped_column(Credit)
    unit: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    index_number: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(1000))
    rule_version: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OutsideStatus.SELF_REPORTED)
    status_reason: Mapped[str | None] = mapped_column(String(1000))
    certificate_file: Mapped[str | None] = mapped_column(String(100))
    """The stored certificate's file name (its SHA-256 and extension) under the instance folder."""
    certificate_type: Mapped[str | None] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
