"""A learner's consent to have claims reported to a certifying body on their behalf."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow


class ReportConsent(Base):
    """Per learner and credential; ``withdrawn_at`` set means no consent (claims wait)."""

    __tablename__ = "report_consents"
    __table_args__ = (UniqueConstraint("learner_id", "credential"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    credential: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
