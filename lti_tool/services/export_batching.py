"""Gathering claims into batches, and choosing which batches are due.

In the caller's transaction, claims not yet in a batch whose learner has what the body requires (number,
consent: :mod:`lti_tool.services.claim_readiness`) are put into batches of one credential, oldest
completion first, at most ``[delivery] max_claims_per_batch`` claims each, bound to the credential's
exporter and destination, with the earliest reporting deadline of their claims. A batch's key is
derived from its claims' keys, so it names the same content on every retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.exports.config import Exports
from lti_tool.services.claim_readiness import missing_for

OPEN = models.OPEN_BATCH_STATUSES
"""Batch states a tick may (re)deliver once their lease is free."""


def in_scope(column: Any, credentials: Collection[str] | None, exclude: Collection[str]) -> list[Any]:
    where = []
    if credentials is not None:
        where.append(column.in_(list(credentials)))
    if exclude:
        where.append(column.not_in(list(exclude)))
    return where


def batch_key(claim_keys: list[str]) -> str:
    return hashlib.sha256("|".join(claim_keys).encode()).hexdigest()


def form_batches(
    session: Session, now: datetime, exports: Exports, *,
    credentials: Collection[str] | None = None, exclude: Collection[str] = (),
) -> list[int]:
    """Put ready claims into new batches, in the caller's (write) transaction; returns their ids."""
    query = (select(models.OutboxClaim, models.Award)
             .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
             .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
             .where(models.OutboxClaim.batch_id.is_(None),
                    *in_scope(models.OutboxClaim.credential, credentials, exclude)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=models.OutboxClaim, skip_locked=True)
    by_credential: dict[str, list[tuple[models.OutboxClaim, models.Award]]] = {}
    for claim, award in session.execute(query.order_by(models.Award.completed_at, models.OutboxClaim.id)):
        by_credential.setdefault(claim.credential, []).append((claim, award))
    size = exports.config.delivery.max_claims_per_batch
    batch_ids = []
    for credential, group in sorted(by_credential.items()):
        binding = exports.binding(credential)
        requires = binding.requires or []
        ready = [(c, a) for c, a in group if not missing_for(session, a.learner_id, credential, requires)]
        deadline = exports.deadline(credential)
        for start in range(0, len(ready), size):
            chunk = ready[start:start + size]
            batch = models.ExportBatch(
                credential=credential, destination=binding.destination,
                exporter=binding.exporter,
                key=batch_key([c.idempotency_key for c, _ in chunk]), status=models.BatchStatus.PENDING,
                attempts=0, next_attempt_at=now, created_at=now,
                deadline_at=min(a.completed_at for _, a in chunk) + deadline if deadline else None,
            )
            session.add(batch)
            session.flush()
            for claim, _ in chunk:
                claim.batch_id = batch.id
            batch_ids.append(batch.id)
    return batch_ids


def due_batches(
    session: Session, now: datetime, *, credentials: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[int]:
    """Batches to deliver now, nearest reporting deadline first (those without one last)."""
    return list(session.scalars(
        select(models.ExportBatch.id).where(
            models.ExportBatch.status.in_(OPEN),
            models.ExportBatch.next_attempt_at <= now,
            or_(models.ExportBatch.lease_until.is_(None), models.ExportBatch.lease_until < now),
            *in_scope(models.ExportBatch.credential, credentials, exclude),
        ).order_by(case((models.ExportBatch.deadline_at.is_(None), 1), else_=0),
                   models.ExportBatch.deadline_at, models.ExportBatch.id)
    ))
