"""Awards and the append-only ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Credit, Id, UtcDateTime, utcnow


class Award(Base):
    """Credit decided for one completion toward one credential. Never updated.

    ``revision`` is 0 for the award made when the completion arrived; a recompute writes a reversal
    of the old award and a new award with the next revision. The unique key on (completion,
    credential, revision) is what makes a re-sent event or a concurrent retry award nothing twice.
    The unique key on (learner, credential, ``course_key``, ``period``, revision) is the plugin's
    retake policy (:mod:`lti_tool.credits.repeats`): a course earns a credential's credit at most
    once per period (a cycle, a calendar year, or ``ever``). ``activity`` and ``settings`` keep what
    the award was computed from, so it can be explained.
    """

    __tablename__ = "awards"
    __table_args__ = (
        UniqueConstraint("completion_id", "credential", "revision"),
        UniqueConstraint("learner_id", "credential", "course_key", "period", "revision"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("course_completions.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    """Looked up through the retake key, which it leads (no index of its own)."""
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    course_id: Mapped[str] = mapped_column(String(2000))
    credential: Mapped[str] = mapped_column(String(64), index=True)
    course_key: Mapped[str] = mapped_column(String(2100))
    """The course as the credential's body identifies it: ``course:<id>`` or ``index:<number>``."""
    period: Mapped[str] = mapped_column(String(64))
    """Where a retake earns again: ``cycle:<first day>``, ``year:<YYYY>``, ``ever``, ``unanchored`` (or
    ``legacy:<id>`` for a duplicate made before retakes were keyed; see migration 0006)."""
    revision: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(Credit)
    unit: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    index_number: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    minutes: Mapped[int] = mapped_column(Integer)
    activity: Mapped[dict[str, Any]] = mapped_column(JSON)
    rule_version: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, str]] = mapped_column(JSON)
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


Index("ix_awards_course_roster", Award.source_id, Award.course_id, Award.learner_id, Award.credential, Award.unit)
"""The instructor's roster of a course groups its awards by learner and credential along this index."""


class LedgerEntry(Base):
    """A movement of credit: ``credit`` when an award is made, ``reversal`` when it is revoked.

    At most one of each per award, so revoking twice reverses once.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("award_id", "kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"))
    """Looked up through the unique key (award, kind), which it leads (no index of its own)."""
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Credit)
    reason: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

