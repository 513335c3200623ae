"""The export tick: gather ready claims into batches, then render and deliver each batch once.

1. In one transaction, pending claims whose learner has what the body requires (number, consent;
   see :mod:`lti_tool.services.claim_readiness`) are put into one batch per credential, bound to the
   credential's exporter and destination from ``config/exports.toml``, with the earliest reporting
   deadline of its claims.
2. Each undelivered batch that is due is *leased* with a conditional update, nearest deadline
   first, so two ticks (the scheduler and ``lti-tool export run``, or two hosts) never deliver the
   same batch at once; a lease left by a crashed process expires and a later tick takes it up again.
3. The batch is rendered (deterministically, from its claims) and delivered with its key (file
   names, ``Message-ID``, ``webhook-id``), then marked delivered with the receiver's receipt. A
   failure is retried with exponential backoff and jitter (at least ``Retry-After``); a permanent
   refusal or too many attempts moves the batch to the dead letter (``status = "dead"``) with its
   last error, until ``lti-tool export retry ID``.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.base import DeliveryError, Export
from lti_tool.exports.claim import Claim
from lti_tool.exports.config import Exports
from lti_tool.services.claim_readiness import missing_for
from lti_tool.settings import ExportSettings

log = logging.getLogger(__name__)

OPEN = ("pending", "failed", "delivering")


@dataclass
class TickReport:
    delivered: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "failed": self.failed}


def run_export_tick(
    sessions: sessionmaker[Session], exports: Exports, settings: ExportSettings,
    now: datetime | None = None, *, credentials: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> TickReport:
    """One tick, for ``credentials`` (default: all but ``exclude``, those with their own cron)."""
    now = now or models.utcnow()
    form_batches(sessions, now, exports, credentials=credentials, exclude=exclude)
    report = TickReport()
    for batch_id in due_batches(sessions, now, credentials=credentials, exclude=exclude):
        if not lease(sessions, batch_id, now, settings.lease_seconds):
            continue
        deliver_batch(sessions, batch_id, exports, settings, report)
    return report


def _in_scope(column: Any, credentials: Collection[str] | None, exclude: Collection[str]) -> list[Any]:
    where = []
    if credentials is not None:
        where.append(column.in_(list(credentials)))
    if exclude:
        where.append(column.not_in(list(exclude)))
    return where


def form_batches(
    sessions: sessionmaker[Session], now: datetime, exports: Exports | None = None, *,
    credentials: Collection[str] | None = None, exclude: Collection[str] = (),
) -> list[int]:
    with write_session(sessions) as session:
        query = (select(models.OutboxClaim, models.Award)
                 .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
                 .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
                 .where(models.OutboxClaim.batch_id.is_(None),
                        *_in_scope(models.OutboxClaim.credential, credentials, exclude)))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=models.OutboxClaim, skip_locked=True)
        by_credential: dict[str, list[tuple[models.OutboxClaim, models.Award]]] = {}
        for claim, award in session.execute(query.order_by(models.OutboxClaim.id)):
            by_credential.setdefault(claim.credential, []).append((claim, award))
        batch_ids = []
        for credential, group in sorted(by_credential.items()):
            binding = exports.config.binding(credential) if exports else None
            requires = (binding.requires or []) if binding else []
            ready = [(c, a) for c, a in group if not missing_for(session, a.learner_id, credential, requires)]
            if not ready:
                continue
            deadline = exports.config.deadline(credential) if exports else None
            key = hashlib.sha256("|".join(c.idempotency_key for c, _ in ready).encode()).hexdigest()
            batch = models.ExportBatch(
                credential=credential, destination=binding.destination if binding else "directory",
                exporter=binding.exporter if binding else "claims-csv", key=key, status="pending",
                next_attempt_at=now, created_at=now,
                deadline_at=min(a.completed_at for _, a in ready) + deadline if deadline else None,
            )
            session.add(batch)
            session.flush()
            for claim, _ in ready:
                claim.batch_id = batch.id
            batch_ids.append(batch.id)
        return batch_ids


def due_batches(
    sessions: sessionmaker[Session], now: datetime, *, credentials: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[int]:
    """Batches to deliver now, nearest reporting deadline first."""
    with read_session(sessions) as session:
        return list(session.scalars(
            select(models.ExportBatch.id).where(
                models.ExportBatch.status.in_(OPEN),
                models.ExportBatch.next_attempt_at <= now,
                or_(models.ExportBatch.lease_until.is_(None), models.ExportBatch.lease_until < now),
                *_in_scope(models.ExportBatch.credential, credentials, exclude),
            ).order_by(case((models.ExportBatch.deadline_at.is_(None), 1), else_=0),
                       models.ExportBatch.deadline_at, models.ExportBatch.id)
        ))


def lease(sessions: sessionmaker[Session], batch_id: int, now: datetime, seconds: float) -> bool:
    """Take the batch for this tick; ``False`` if another tick holds it."""
    with write_session(sessions) as session:
        result = session.execute(
            update(models.ExportBatch)
            .where(
                models.ExportBatch.id == batch_id,
                models.ExportBatch.status.in_(OPEN),
                or_(models.ExportBatch.lease_until.is_(None), models.ExportBatch.lease_until < now),
            )
            .values(
                status="delivering",
                lease_until=now + timedelta(seconds=seconds),
                attempts=models.ExportBatch.attempts + 1,
            )
        )
        return result.rowcount == 1


def batch_name(batch: models.ExportBatch) -> str:
    return f"{batch.created_at:%Y%m%dT%H%M%SZ}-batch-{batch.id}-{batch.key[:12]}"


def render_batch(exports: Exports, batch: models.ExportBatch, claims: list[Claim]) -> Export:
    exporter = exports.exporters[batch.exporter or "claims-csv"]
    name = batch_name(batch)
    subject, body = exporter.message(batch.credential, claims)
    return Export(key=batch.key, name=name, credential=batch.credential,
                  files=tuple(exporter.render(name, claims)), subject=subject, body=body,
                  claim_keys=tuple(c.idempotency_key for c in claims))


def deliver_batch(
    sessions: sessionmaker[Session], batch_id: int, exports: Exports,
    settings: ExportSettings, report: TickReport,
) -> None:
    with read_session(sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        assert batch is not None
        claims = batch_claims(session, batch_id)
        credential, attempts, destination = batch.credential, batch.attempts, batch.destination
        export = render_batch(exports, batch, claims)
    try:
        receipt = exports.destination(destination).deliver(export)
    except Exception as exc:  # noqa: BLE001 - every delivery failure is recorded, retried or dead-lettered
        record_failure(sessions, batch_id, exc, attempts, exports, settings, report, credential)
        return
    with write_session(sessions) as session:
        session.execute(update(models.ExportBatch).where(
            models.ExportBatch.id == batch_id, models.ExportBatch.status != "delivered",
        ).values(status="delivered", receipt=receipt, delivered_at=models.utcnow(),
                 lease_until=None, last_error=None))
    log.info("export batch %s: %d %s claim(s) to %s: %s", batch_id, len(claims), credential,
             destination, receipt)
    report.delivered.append({"batch": batch_id, "credential": credential, "claims": len(claims),
                             "destination": destination, "file": receipt.get("path"), "receipt": receipt})


def record_failure(
    sessions: sessionmaker[Session], batch_id: int, exc: Exception, attempts: int, exports: Exports,
    settings: ExportSettings, report: TickReport, credential: str,
) -> None:
    permanent = isinstance(exc, DeliveryError) and exc.permanent
    dead = permanent or attempts >= exports.config.delivery.max_attempts
    delay = min(settings.retry_base_seconds * 2 ** (attempts - 1), settings.retry_max_seconds)
    delay *= random.uniform(0.5, 1.0)
    if isinstance(exc, DeliveryError) and exc.retry_after is not None:
        delay = max(delay, exc.retry_after)
    error = f"{type(exc).__name__}: {exc}"
    log.warning("export batch %s (%s) %s: %s", batch_id, credential, "dead" if dead else "failed", error)
    with write_session(sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        assert batch is not None
        batch.status = "dead" if dead else "failed"
        batch.last_error = error
        batch.lease_until = None
        batch.next_attempt_at = models.utcnow() + timedelta(seconds=delay)
    report.failed.append({"batch": batch_id, "credential": credential, "error": str(exc),
                          "dead": dead, "attempts": attempts})


class BatchNotFound(LookupError):
    pass


def retry_batch(sessions: sessionmaker[Session], batch_id: int) -> dict[str, Any]:
    """Put a dead or failed batch back in line now (``lti-tool export retry ID``)."""
    with write_session(sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        if batch is None:
            raise BatchNotFound(f"no export batch with id {batch_id}")
        if batch.status not in ("dead", "failed"):
            raise ValueError(f"batch {batch_id} is {batch.status}; only dead or failed batches are retried")
        batch.status, batch.attempts, batch.lease_until = "pending", 0, None
        batch.next_attempt_at = models.utcnow()
        return {"batch": batch.id, "credential": batch.credential, "status": batch.status,
                "last_error": batch.last_error}


def export_status(session: Session, exports: Exports, now: datetime | None = None) -> dict[str, Any]:
    """Claims per destination: pending (incl. waiting for the learner), delivered, failed, dead,
    overdue (past the body's reporting deadline and not delivered); and the dead batches."""
    now = now or models.utcnow()
    per: dict[str, dict[str, int]] = {}

    def bucket(destination: str) -> dict[str, int]:
        return per.setdefault(destination, {"pending": 0, "waiting": 0, "delivered": 0, "failed": 0,
                                             "dead": 0, "overdue": 0})

    rows = session.execute(
        select(models.OutboxClaim.credential, models.ExportBatch.destination, models.ExportBatch.status,
               models.Award.completed_at, models.Award.learner_id)
        .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
        .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
        .outerjoin(models.ExportBatch, models.ExportBatch.id == models.OutboxClaim.batch_id))
    for credential, destination, status, completed_at, learner_id in rows:
        counts = bucket(destination or exports.destination_name(credential))
        if status is None:
            counts["pending"] += 1
            requires = exports.config.binding(credential).requires or []
            if missing_for(session, learner_id, credential, requires):
                counts["waiting"] += 1
        else:
            counts[{"delivering": "pending"}.get(status, status)] += 1
        deadline = exports.config.deadline(credential)
        if status != "delivered" and deadline is not None and completed_at + deadline < now:
            counts["overdue"] += 1
    dead = [{"batch": b.id, "credential": b.credential, "destination": b.destination,
             "attempts": b.attempts, "last_error": b.last_error}
            for b in session.scalars(select(models.ExportBatch).where(models.ExportBatch.status == "dead")
                                     .order_by(models.ExportBatch.id))]
    totals = {k: sum(c[k] for c in per.values()) for k in
              ("pending", "waiting", "delivered", "failed", "dead", "overdue")}
    return {"destinations": per, "total": totals, "dead_batches": dead}


def batch_claims(session: Session, batch_id: int) -> list[Claim]:
    return claims_where(session, models.OutboxClaim.batch_id == batch_id)


def claims_where(session: Session, *where: Any) -> list[Claim]:
    rows = session.execute(
        select(models.OutboxClaim, models.LedgerEntry, models.Award, models.Learner, models.Source)
        .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
        .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
        .join(models.Learner, models.Learner.id == models.Award.learner_id)
        .join(models.Source, models.Source.id == models.Award.source_id)
        .where(*where)
        .order_by(models.OutboxClaim.id)
    )
    claims = []
    for claim, entry, award, learner, source in rows:
        holding = session.scalar(select(models.LearnerCredential).where(
            models.LearnerCredential.learner_id == learner.id,
            models.LearnerCredential.credential == award.credential,
        ))
        mapping = session.scalar(select(models.CourseMapping).where(
            models.CourseMapping.source_id == award.source_id,
            models.CourseMapping.course_id == award.course_id,
        ))
        claims.append(Claim(
            idempotency_key=claim.idempotency_key, entry_kind=entry.kind, award_id=award.id,
            credential=award.credential, learner_lms_id=learner.lms_user_id,
            learner_name=learner.name, learner_email=learner.email,
            member_number=holding.number if holding else None, source=source.name,
            course_id=award.course_id, course_title=mapping.title if mapping else None,
            completed_at=award.completed_at, minutes=award.minutes, amount=entry.amount,
            unit=award.unit, category=award.category, index_number=award.index_number,
            rule_version=award.rule_version,
        ))
    return claims
