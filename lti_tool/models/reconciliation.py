"""Pulling completions from an LMS: how to reach it, how far each course was read, each run's result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow


class SourceConnection(Base):
    """Where a source's LMS answers and how to authenticate to it.

    ``auth`` names where each secret lives (``token_env``, ``token_file``, ``client_id``,
    ``client_secret_env``, ``refresh_token_env``...); secrets themselves are never stored.
    """

    __tablename__ = "source_connections"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), unique=True)
    api_url: Mapped[str] = mapped_column(String(2000))
    auth: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ReconcileMark(Base):
    """How far one course of a source has been read: completions up to ``completed_through`` are known."""

    __tablename__ = "reconcile_marks"
    __table_args__ = (UniqueConstraint("source_id", "course_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    course_id: Mapped[str] = mapped_column(String(2000))
    completed_through: Mapped[datetime | None] = mapped_column(UtcDateTime)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReconcileRun(Base):
    """One reconciliation of one source: what it found and what went wrong (the administrators' view)."""

    __tablename__ = "reconcile_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    courses: Mapped[int] = mapped_column(Integer, default=0)
    users_checked: Mapped[int] = mapped_column(Integer, default=0)
    completions_found: Mapped[int] = mapped_column(Integer, default=0)
    credited: Mapped[int] = mapped_column(Integer, default=0)
    already_known: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)


class ReconcileLease(Base):
    """Who is reconciling a source now: one holder at a time, across scheduler processes."""

    __tablename__ = "reconcile_leases"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReconcileRequest(Base):
    """Someone asked for a source to be reconciled now ("Reconcile now"): the scheduler does it
    within a minute (web workers never run the job)."""

    __tablename__ = "reconcile_requests"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    requested_by: Mapped[str | None] = mapped_column(String(255))
