"""Course completions: one per learner, course and completion time, however often the LMS
reports it; a retake (completed again later) is a completion of its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow


class CourseCompletion(Base):
    """A learner completed a course at a time. The unique key makes a re-sent event (and the same
    completion through a second source of the same LMS) harmless; whether a later completion earns
    credit again is the awards' business (their retake key)."""

    __tablename__ = "course_completions"
    __table_args__ = (UniqueConstraint("learner_id", "course_id", "completed_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    course_id: Mapped[str] = mapped_column(String(2000))
    course_name: Mapped[str | None] = mapped_column(String(500))
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    measured_minutes: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(ForeignKey("lms_events.id", deferrable=True, initially="DEFERRED"))
    """Checked at commit: ingestion stores an event after crediting it, with what became of it, in
    the same transaction (:func:`lti_tool.services.ingestion.record_events`)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
