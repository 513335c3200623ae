"""Renewal items a learner confirmed: fees paid, memberships held, volunteer hours served."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Credit, Id, UtcDateTime, utcnow


class RenewalConfirmation(Base):
    """One confirmation of a plugin's renewal item (:class:`lti_tool.credits.api.RenewalItem`).

    Never updated. The unique key makes confirming the same item on the same day twice harmless.
    """

    __tablename__ = "renewal_confirmations"
    __table_args__ = (UniqueConstraint("learner_id", "credential", "item", "confirmed_on",
                                       name="uq_renewal_confirmations_learner_item_day"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    credential: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64))
    confirmed_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Credit)
    """Hours, for an item measured in hours (volunteer service)."""
    recorded_by: Mapped[str] = mapped_column(String(16))
    """``learner`` (the learner page) or ``cli`` (an administrator)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
