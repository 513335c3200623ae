"""Course mappings: what completing an LMS course earns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow


class CourseMapping(Base):
    """Contact time, activity type and facts, and the credentials one course is approved for.

    ``facts`` holds the optional activity facts (first_time, category, sponsor, live, approved_by,
    index_number, pilot_minutes, offers_interaction, structured, hours, cpr_card).
    """

    __tablename__ = "course_mappings"
    __table_args__ = (UniqueConstraint("source_id", "course_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    course_id: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(500))
    minutes: Mapped[int | None] = mapped_column(Integer)
    use_measured_time: Mapped[bool] = mapped_column(Boolean, default=False)
    max_minutes: Mapped[int | None] = mapped_column(Integer)
    """The most measured time credited (xAPI ``result.duration``); ``None``: ``minutes`` when set,
    else :data:`lti_tool.services.crediting.DEFAULT_MAX_MINUTES`."""
    activity: Mapped[str] = mapped_column(String(32), default="education")
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credentials: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
