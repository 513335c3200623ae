"""The administrator page's export status: ``lti-tool export status``, scoped to one platform.

Data of one platform is never visible from another, and export batches are *not* per platform: a
batch carries the ready claims of one credential of every learner, whatever LMS they came from
(:mod:`lti_tool.services.export_batching`), so a batch's error (an SMTP reply, an HTTP body) may be
about other platforms' learners. What a platform's administrator sees is therefore:

- the counts per destination (pending, of which waiting for the learner, delivered, failed, dead,
  overdue) of the claims of *this platform's learners* only: the learners of its event source's
  identity (:attr:`lti_tool.models.Source.identity_id`), the same learners its launches name;
- the dead batches that carry at least one of those claims, with how many are this platform's; the
  batch's last error, and the retry button, only when *every* claim in it is this platform's;
- the last runs (delivery attempts) of batches that carry at least one of those claims, with the
  attempt's error only when the batch is wholly this platform's.

The configured destination names are the deployment's, not a platform's, so every one is listed.
A shared batch's error and retry stay with the tool's operator (``lti-tool export status`` and
``lti-tool export retry ID``); the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.exports.config import Exports
from lti_tool.services.export_retries import retry_batch
from lti_tool.services.export_status import claim_counts, totals


class NotThisPlatforms(LookupError):
    """The batch does not exist, or carries claims of other platforms' learners."""


@dataclass(frozen=True)
class DeadBatch:
    batch: int
    credential: str
    destination: str
    attempts: int
    own_claims: int
    own: bool
    """Every claim in the batch is this platform's: its error is shown and it may be retried here."""
    last_error: str | None
    deadline_at: datetime | None


@dataclass(frozen=True)
class Run:
    batch: int
    credential: str
    destination: str
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    own: bool
    error: str | None
    retry_at: datetime | None


@dataclass
class PlatformExports:
    destinations: dict[str, dict[str, int]] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    dead_batches: list[DeadBatch] = field(default_factory=list)
    last_runs: list[Run] = field(default_factory=list)


def _own_award(identity_id: int) -> ColumnElement[bool]:
    """The platform's claims: those whose award's learner is one of its event source's learners."""
    return models.Award.learner_id.in_(
        select(models.Learner.id).where(models.Learner.source_id == identity_id))


def batch_shares(session: Session, identity_id: int) -> dict[int, tuple[int, int]]:
    """Batch id -> (this platform's claims, all claims) for every batch with a claim of the platform."""
    own = func.sum(case((models.Learner.source_id == identity_id, 1), else_=0))
    rows = session.execute(
        select(models.OutboxClaim.batch_id, own, func.count(models.OutboxClaim.id))
        .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
        .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
        .join(models.Learner, models.Learner.id == models.Award.learner_id)
        .where(models.OutboxClaim.batch_id.is_not(None))
        .group_by(models.OutboxClaim.batch_id)
        .having(own > 0))
    return {batch_id: (int(mine), int(every)) for batch_id, mine, every in rows}


def wholly_owned(session: Session, identity_id: int, batch_id: int) -> bool:
    """True when the batch has claims and every one is of this platform's learners."""
    mine, every = batch_shares(session, identity_id).get(batch_id, (0, 0))
    return every > 0 and mine == every


def platform_exports(session: Session, exports: Exports, identity_id: int, now: datetime | None = None,
                     last_runs: int = 20) -> PlatformExports:
    """Export status for the platform whose learners live in source ``identity_id``."""
    now = now or models.utcnow()
    view = PlatformExports(destinations=claim_counts(session, exports, now, _own_award(identity_id)))
    view.total = totals(view.destinations)
    shares = batch_shares(session, identity_id)
    if not shares:
        return view
    for batch in session.scalars(select(models.ExportBatch).where(
            models.ExportBatch.status == models.BatchStatus.DEAD, models.ExportBatch.id.in_(list(shares)))
            .order_by(models.ExportBatch.id)):
        mine, every = shares[batch.id]
        view.dead_batches.append(DeadBatch(
            batch=batch.id, credential=batch.credential, destination=batch.destination,
            attempts=batch.attempts, own_claims=mine, own=mine == every,
            last_error=batch.last_error if mine == every else None, deadline_at=batch.deadline_at))
    for attempt, credential in session.execute(
            select(models.ExportAttempt, models.ExportBatch.credential)
            .join(models.ExportBatch, models.ExportBatch.id == models.ExportAttempt.batch_id)
            .where(models.ExportAttempt.batch_id.in_(list(shares)))
            .order_by(models.ExportAttempt.started_at.desc(), models.ExportAttempt.id.desc())
            .limit(last_runs)):
        mine, every = shares[attempt.batch_id]
        view.last_runs.append(Run(
            batch=attempt.batch_id, credential=credential, destination=attempt.destination,
            attempt=attempt.attempt, started_at=attempt.started_at, finished_at=attempt.finished_at,
            outcome=attempt.outcome or "running", own=mine == every,
            error=attempt.error if mine == every else None, retry_at=attempt.retry_at))
    return view


def retry(session: Session, *, launch: models.LaunchSession, identity_id: int, batch_id: int) -> dict[str, object]:
    """``lti-tool export retry ID`` for a batch wholly of this platform, audit-logged in the same
    transaction. Raises :class:`NotThisPlatforms` (or ``ValueError`` when the batch is neither dead
    nor failed)."""
    if not wholly_owned(session, identity_id, batch_id):
        raise NotThisPlatforms(f"no export batch {batch_id} of this platform's learners to retry")
    batch = session.get(models.ExportBatch, batch_id)
    assert batch is not None
    before = {"status": batch.status, "attempts": batch.attempts, "last_error": batch.last_error}
    result = retry_batch(session, batch_id)
    session.add(models.AuditEntry(
        platform_id=launch.platform_id, lms_user_id=launch.lms_user_id, action="export.retry",
        subject=f"export batch {batch_id} ({batch.credential} to {batch.destination})", before=before,
        after={"status": result["status"], "attempts": batch.attempts}))
    return result
