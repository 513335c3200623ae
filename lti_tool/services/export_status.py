"""Where claims stand, per destination: what ``lti-tool export status`` and the administrator page show.

Counts are of claims: ``pending`` (not delivered yet, including those being delivered and those
``waiting`` for the learner's number or consent), ``delivered``, ``failed`` (will be retried),
``dead`` (needs ``lti-tool export retry ID``) and ``overdue`` (past the body's reporting deadline and
not delivered). With them: the dead batches with their last error, and the last delivery attempts
("runs") with their errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.exports.config import Exports
from lti_tool.services.claim_readiness import missing_for

COUNTS = tuple(models.ClaimState)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def claim_counts(session: Session, exports: Exports, now: datetime, *where: Any) -> dict[str, dict[str, int]]:
    """The counts per destination of the claims matching ``where`` (all claims without), every
    configured destination listed even when it has none."""
    per: dict[str, dict[str, int]] = {name: dict.fromkeys(COUNTS, 0) for name in exports.destinations}
    rows = session.execute(
        select(models.OutboxClaim.credential, models.ExportBatch.destination, models.ExportBatch.status,
               models.Award.completed_at, models.Award.learner_id)
        .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
        .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
        .outerjoin(models.ExportBatch, models.ExportBatch.id == models.OutboxClaim.batch_id)
        .where(*where))
    for credential, destination, status, completed_at, learner_id in rows:
        counts = per.setdefault(destination or exports.destination_name(credential), dict.fromkeys(COUNTS, 0))
        if status is None:
            counts[models.ClaimState.PENDING] += 1
            if missing_for(session, learner_id, credential, exports.requires(credential)):
                counts[models.ClaimState.WAITING] += 1
        else:
            counts[models.ClaimState.PENDING if status == models.BatchStatus.DELIVERING else status] += 1
        deadline = exports.deadline(credential)
        if status != models.BatchStatus.DELIVERED and deadline is not None and completed_at + deadline < now:
            counts[models.ClaimState.OVERDUE] += 1
    return dict(sorted(per.items()))


def totals(per: dict[str, dict[str, int]]) -> dict[str, int]:
    return {k: sum(c[k] for c in per.values()) for k in COUNTS}


def export_status(session: Session, exports: Exports, now: datetime | None = None,
                  last_runs: int = 20) -> dict[str, Any]:
    now = now or models.utcnow()
    per = claim_counts(session, exports, now)
    dead = [{"batch": b.id, "credential": b.credential, "destination": b.destination,
             "attempts": b.attempts, "last_error": b.last_error, "deadline_at": _iso(b.deadline_at)}
            for b in session.scalars(select(models.ExportBatch)
                                     .where(models.ExportBatch.status == models.BatchStatus.DEAD)
                                     .order_by(models.ExportBatch.id))]
    runs = [{"batch": a.batch_id, "credential": credential, "destination": a.destination,
             "attempt": a.attempt, "started_at": _iso(a.started_at), "finished_at": _iso(a.finished_at),
             "outcome": a.outcome or "running", "error": a.error, "retry_at": _iso(a.retry_at)}
            for a, credential in session.execute(
                select(models.ExportAttempt, models.ExportBatch.credential)
                .join(models.ExportBatch, models.ExportBatch.id == models.ExportAttempt.batch_id)
                .order_by(models.ExportAttempt.started_at.desc(), models.ExportAttempt.id.desc())
                .limit(last_runs))]
    return {"destinations": per, "total": totals(per), "dead_batches": dead,
            "last_runs": runs}
