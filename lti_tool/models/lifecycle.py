"""What the learner's credential lifecycle keeps: verification codes of certificates, renewal
reminders with their delivery, and the learners who asked for no reminders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow
from lti_tool.states import ReminderStatus


class CertificateCode(Base):
    """The unguessable code of an award's certificate (``/verify/<code>``), made once per award.

    A printed certificate lives for years, so the code is stored rather than derived from a secret
    that could be rotated; both columns are unique, so two concurrent downloads agree on one code.
    """

    __tablename__ = "certificate_codes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Reminder(Base):
    """One renewal reminder e-mail: at most one ever per (learner, credential, cycle, offset).

    ``idempotency_key`` (unique) is derived from those four, so a doubled or crashed tick cannot
    queue a second one. The message is rendered when the row is made and sent as it is on every
    retry; ``receipt`` is the SMTP server's acceptance, ``status`` is pending, sent, dead or
    cancelled (the learner unsubscribed or no longer needs it).
    """

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    credential: Mapped[str] = mapped_column(String(64))
    cycle_end: Mapped[date] = mapped_column(Date)
    offset_days: Mapped[int] = mapped_column(Integer)
    email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ReminderStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReminderOptOut(Base):
    """A learner who unsubscribed from renewal reminders (their page can turn them back on)."""

    __tablename__ = "reminder_opt_outs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
