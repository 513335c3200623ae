"""The outbox: claims waiting to be exported, the batches that carry them, and delivery attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow
from lti_tool.states import BatchStatus


class OutboxClaim(Base):
    """One ledger entry to report to its certifying body, written in the entry's transaction."""

    __tablename__ = "outbox_claims"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    credential: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("export_batches.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ExportBatch(Base):
    """Claims of one credential delivered together, once.

    A batch holds only claims whose learner has what the body requires (number, consent).
    A batch is formed in one transaction, then leased, rendered and delivered under a name derived
    from its key, so a retry after a crash replaces the same file instead of adding a second one.
    """

    __tablename__ = "export_batches"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    credential: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    exporter: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True, default=BatchStatus.PENDING)
    """A :class:`~lti_tool.models.states.BatchStatus`."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts so far; each lease adds one and the number is the lease's fencing token."""
    attempts_before_retry: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """``attempts`` when the batch was last put back by hand: ``max_attempts`` counts from there."""
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    """The earliest reporting deadline of its claims: batches nearest their deadline go first."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ExportAttempt(Base):
    """One try at delivering a batch: the administrators' "last runs and their errors".

    Written when the batch is leased (``outcome`` ``None`` while it runs) and finished with
    ``delivered`` (and the receipt), ``failed``, ``dead`` or, when the process died during it and a
    later tick took the batch up again, ``interrupted``.
    """

    __tablename__ = "export_attempts"
    __table_args__ = (UniqueConstraint("batch_id", "attempt"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("export_batches.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    destination: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
