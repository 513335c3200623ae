"""Learners, keyed by (source, LMS user id), and the credentials they hold."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow


class Learner(Base):
    __tablename__ = "learners"
    __table_args__ = (UniqueConstraint("source_id", "lms_user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    lms_user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LearnerCredential(Base):
    """A credential a learner holds, with the member or licence number its claims need."""

    __tablename__ = "learner_credentials"
    __table_args__ = (UniqueConstraint("learner_id", "credential"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    credential: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(100))
    certified_on: Mapped[date | None] = mapped_column(Date)
    cycle_start: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
