"""The states a stored row can be in, one ``StrEnum`` each: the values are the text stored in the
database and shown in JSON (``EventStatus.CREDITED == "credited"``), so a state is never a bare
string literal in code. A leaf module (no imports of the tool), so exporters read claims' states
without importing the models; ``lti_tool.models`` re-exports every name."""

from __future__ import annotations

from enum import StrEnum


class EventStatus(StrEnum):
    """What became of an LMS event (:attr:`LmsEvent.status`, and the answer to its request)."""

    CREDITED = "credited"
    UNMAPPED = "unmapped"
    REFUSED = "refused"
    DUPLICATE = "duplicate"
    ALREADY_CREDITED = "already credited this cycle"
    """A retake inside a period (cycle, calendar year, or ever) that has its award already; the
    answer names the period beside it."""
    IGNORED = "ignored"
    FAILED = "failed"
    """Stored, not processed (an error); the scheduler retries it."""
    PARKED = "parked"
    """Failed the same way too many times: kept with its error for an administrator
    (``lti-tool events parked`` / ``events retry ID``), no longer retried."""
    PROCESSING = "processing"
    """Being stored and credited, inside the transaction that decides its final status."""
    QUEUED = "queued"
    """Only an answer, never stored: the event was stored as ``FAILED`` and will be retried."""


class EntryKind(StrEnum):
    """A ledger entry: the award's credit, or its reversal (:attr:`LedgerEntry.kind`)."""

    CREDIT = "credit"
    REVERSAL = "reversal"


class BatchStatus(StrEnum):
    """An export batch's delivery (:attr:`ExportBatch.status`)."""

    PENDING = "pending"
    DELIVERING = "delivering"
    FAILED = "failed"
    """Will be retried."""
    DELIVERED = "delivered"
    DEAD = "dead"
    """Needs ``lti-tool export retry``."""


OPEN_BATCH_STATUSES = (BatchStatus.PENDING, BatchStatus.FAILED, BatchStatus.DELIVERING)
"""A batch in one of these may still be delivered by a tick."""


class AttemptOutcome(StrEnum):
    """How one delivery attempt ended (:attr:`ExportAttempt.outcome`; ``None`` while it runs)."""

    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"
    INTERRUPTED = "interrupted"
    """The process died during it; a later tick took the batch up again."""


class ClaimState(StrEnum):
    """Where an outbox claim stands, as ``export status`` counts it."""

    PENDING = "pending"
    WAITING = "waiting"
    """Pending, and the learner lacks what the body requires (number, consent)."""
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"
    OVERDUE = "overdue"
    """Not delivered, past the body's reporting deadline."""


class ReminderStatus(StrEnum):
    """A renewal reminder e-mail (:attr:`Reminder.status`)."""

    PENDING = "pending"
    """Stored, to be sent (or retried)."""
    SENT = "sent"
    CANCELLED = "cancelled"
    """No longer needed before it went out (the learner met the requirement, or the cycle ended)."""
    DEAD = "dead"
    """Refused for good, or out of attempts."""


class OutsideStatus(StrEnum):
    """Credit earned outside the LMS (:attr:`OutsideCredit.status`)."""

    SELF_REPORTED = "self-reported"
    VERIFIED = "verified"
    REJECTED = "rejected"
