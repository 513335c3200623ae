"""The export tick: gather due claims into batches, then render and deliver each batch once.

1. In one transaction, pending claims are put into one batch per credential.
2. Each undelivered batch that is due is *leased* with a conditional update, so two ticks (the
   scheduler and ``lti-tool export run``, or two hosts) never deliver the same batch at once; a
   lease left by a crashed process expires and the next tick takes the batch up again.
3. The batch is rendered (deterministically, from its claims) and delivered under a name derived
   from the batch, then marked delivered with its receipt. A failure is recorded with its error and
   retried later with exponential backoff and jitter.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.exports.claim import Claim
from lti_tool.exports.claims_csv import render_claims_csv
from lti_tool.exports.directory import deliver_to_directory
from lti_tool.settings import ExportSettings

log = logging.getLogger(__name__)

DESTINATION = "directory"


@dataclass
class TickReport:
    delivered: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "failed": self.failed}


def run_export_tick(
    sessions: sessionmaker[Session], exports_dir: Path, settings: ExportSettings,
    now: datetime | None = None,
) -> TickReport:
    now = now or models.utcnow()
    form_batches(sessions, now)
    report = TickReport()
    for batch_id in due_batches(sessions, now):
        if not lease(sessions, batch_id, now, settings.lease_seconds):
            continue
        deliver_batch(sessions, batch_id, exports_dir, settings, report)
    return report


def form_batches(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    with write_session(sessions) as session:
        query = select(models.OutboxClaim).where(models.OutboxClaim.batch_id.is_(None))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claims = list(session.scalars(query.order_by(models.OutboxClaim.id)))
        by_credential: dict[str, list[models.OutboxClaim]] = {}
        for claim in claims:
            by_credential.setdefault(claim.credential, []).append(claim)
        batch_ids = []
        for credential, group in sorted(by_credential.items()):
            key = hashlib.sha256("|".join(c.idempotency_key for c in group).encode()).hexdigest()
            batch = models.ExportBatch(
                credential=credential, destination=DESTINATION, key=key, status="pending",
                next_attempt_at=now, created_at=now,
            )
            session.add(batch)
            session.flush()
            for claim in group:
                claim.batch_id = batch.id
            batch_ids.append(batch.id)
        return batch_ids


def due_batches(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    with sessions() as session:
        return list(session.scalars(
            select(models.ExportBatch.id).where(
                models.ExportBatch.status.in_(("pending", "failed", "delivering")),
                models.ExportBatch.next_attempt_at <= now,
                or_(models.ExportBatch.lease_until.is_(None), models.ExportBatch.lease_until < now),
            ).order_by(models.ExportBatch.id)
        ))


def lease(sessions: sessionmaker[Session], batch_id: int, now: datetime, seconds: float) -> bool:
    """Take the batch for this tick; ``False`` if another tick holds it."""
    with write_session(sessions) as session:
        result = session.execute(
            update(models.ExportBatch)
            .where(
                models.ExportBatch.id == batch_id,
                models.ExportBatch.status != "delivered",
                or_(models.ExportBatch.lease_until.is_(None), models.ExportBatch.lease_until < now),
            )
            .values(
                status="delivering",
                lease_until=now + timedelta(seconds=seconds),
                attempts=models.ExportBatch.attempts + 1,
            )
        )
        return result.rowcount == 1


def deliver_batch(
    sessions: sessionmaker[Session], batch_id: int, exports_dir: Path,
    settings: ExportSettings, report: TickReport,
) -> None:
    with sessions() as session:
        batch = session.get(models.ExportBatch, batch_id)
        assert batch is not None
        claims = batch_claims(session, batch_id)
        name = f"{batch.created_at:%Y%m%dT%H%M%SZ}-batch-{batch.id}"
        credential, attempts = batch.credential, batch.attempts
    try:
        rendered = render_claims_csv(name, claims)
        receipt = deliver_to_directory(exports_dir, credential, rendered)
    except Exception as exc:  # noqa: BLE001 - every delivery failure is recorded and retried
        log.warning("export batch %s (%s) failed: %s", batch_id, credential, exc)
        delay = min(settings.retry_base_seconds * 2 ** (attempts - 1), settings.retry_max_seconds)
        with write_session(sessions) as session:
            batch = session.get(models.ExportBatch, batch_id)
            assert batch is not None
            batch.status = "failed"
            batch.last_error = f"{type(exc).__name__}: {exc}"
            batch.lease_until = None
            batch.next_attempt_at = models.utcnow() + timedelta(seconds=delay * random.uniform(0.5, 1.0))
        report.failed.append({"batch": batch_id, "credential": credential, "error": str(exc)})
        return
    with write_session(sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        assert batch is not None
        batch.status = "delivered"
        batch.receipt = receipt
        batch.delivered_at = models.utcnow()
        batch.lease_until = None
        batch.last_error = None
    log.info("export batch %s: %d %s claim(s) to %s", batch_id, len(claims), credential, receipt["path"])
    report.delivered.append(
        {"batch": batch_id, "credential": credential, "claims": len(claims), "file": receipt["path"]}
    )


def batch_claims(session: Session, batch_id: int) -> list[Claim]:
    rows = session.execute(
        select(models.OutboxClaim, models.LedgerEntry, models.Award, models.Learner, models.Source)
        .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
        .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
        .join(models.Learner, models.Learner.id == models.Award.learner_id)
        .join(models.Source, models.Source.id == models.Award.source_id)
        .where(models.OutboxClaim.batch_id == batch_id)
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
