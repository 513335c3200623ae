"""Every accepted request from an event source, exactly as received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow
from lti_tool.states import EventStatus

_RETRY = ", ".join(f"'{status}'" for status in (EventStatus.FAILED, EventStatus.PARKED))
RETRY_INDEXED = text(f"lms_events.status IN ({_RETRY})")
"""The condition of ``ix_lms_events_retry``, for a query by status to state beside its own
(``status = 'failed'``): SQLite uses a partial index only for a query whose WHERE holds the
index's condition term as written, with its values inline (a query that leaves it out scans every
event); PostgreSQL infers it, and the term costs it nothing."""


class LmsEvent(Base):
    """A stored request: raw body plus what it was parsed into and what became of it.

    ``parsed`` holds the parsed completions (already verified), so a failed processing can be retried
    by the scheduler without the original signature keys.
    """

    __tablename__ = "lms_events"
    __table_args__ = (
        # Only the events waiting for a retry or parked are looked up by status: the rest (nearly
        # all) add no entry to this index.
        Index("ix_lms_events_retry", "status", postgresql_where=text(f"status IN ({_RETRY})"),
              sqlite_where=text(f"status IN ({_RETRY})")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    content_type: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    parsed: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
