"""Delivering one batch: lease, render, send, and record the outcome.

1. The batch is *leased* with a conditional update that also counts the attempt; the attempt number
   is the lease's fencing token. A lease runs from the moment it is taken (not from the tick's
   start) and :class:`LeaseKeeper` renews it while the delivery runs, so two ticks (the scheduler
   and ``lti-tool export run``, or two hosts) never deliver the same batch at once, however long a
   tick or a delivery takes; a lease left by a killed process is no longer renewed and expires, the
   next tick takes the batch up again, and the killed attempt is recorded as ``interrupted``.
2. The batch is rendered from its claims (deterministically: a retry sends the same bytes under the
   same key: file names, ``Message-ID``, ``webhook-id``) and delivered.
3. Only a receiver's acceptance marks it ``delivered``, with the receipt (an acceptance always wins,
   even after the lease ran out). A failure is recorded by the lease's holder only: retried with
   exponential backoff and jitter, never sooner than ``Retry-After``; a permanent refusal or too many
   attempts moves the batch to the dead letter (``dead``) with its last error, until
   ``lti-tool export retry ID``.

Transactions: these steps are the one runner of delivery (called by
:func:`lti_tool.services.exporting.run_export_tick`): each opens its own short transaction, because
rendering and sending happen between them and must hold no lock. :func:`retry_batch` takes the
caller's ``Session`` like every other service.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import read_session, rows_changed, write_session
from lti_tool.exports.base import DeliveryError, Export
from lti_tool.exports.claim import Claim
from lti_tool.exports.config import Exports
from lti_tool.services.export_batching import OPEN, batch_key
from lti_tool.services.export_claims import batch_claims
from lti_tool.settings import ExportSettings

log = logging.getLogger(__name__)


class BatchNotFound(LookupError):
    pass


def lease(sessions: sessionmaker[Session], batch_id: int, now: datetime, seconds: float) -> int | None:
    """Take the batch for one attempt; returns the attempt number, ``None`` if another tick holds it.

    ``now`` is the moment the lease is taken: the lease ends ``seconds`` after it."""
    with write_session(sessions) as session:
        taken = session.execute(
            update(models.ExportBatch)
            .where(models.ExportBatch.id == batch_id, models.ExportBatch.status.in_(OPEN),
                   (models.ExportBatch.lease_until.is_(None)) | (models.ExportBatch.lease_until < now))
            .values(status=models.BatchStatus.DELIVERING, lease_until=now + timedelta(seconds=seconds),
                    attempts=models.ExportBatch.attempts + 1)
            .returning(models.ExportBatch.attempts, models.ExportBatch.destination)
            .execution_options(synchronize_session=False)
        ).first()
        if taken is None:
            return None
        attempts, destination = taken
        session.execute(
            update(models.ExportAttempt)
            .where(models.ExportAttempt.batch_id == batch_id, models.ExportAttempt.outcome.is_(None))
            .values(outcome=models.AttemptOutcome.INTERRUPTED, finished_at=now,
                    error="the process ended during this attempt; its lease expired")
            .execution_options(synchronize_session=False))
        session.add(models.ExportAttempt(batch_id=batch_id, attempt=attempts, destination=destination,
                                         started_at=now))
        return int(attempts)


class LeaseKeeper:
    """Renews a batch's lease while its delivery runs (a context manager around the delivery).

    A thread moves ``lease_until`` to ``clock() + seconds`` every third of the lease, only while the
    batch is still ``delivering`` under this attempt (the fencing token), so a delivery that outlasts
    the lease is never taken over by another tick; a killed process stops renewing and its lease
    runs out as before.
    """

    def __init__(self, sessions: sessionmaker[Session], batch_id: int, attempt: int, seconds: float,
                 clock: Callable[[], datetime] = models.utcnow) -> None:
        self.sessions, self.batch_id, self.attempt = sessions, batch_id, attempt
        self.seconds, self.clock = seconds, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{batch_id}", daemon=True)

    def renew(self) -> bool:
        """Extend the lease now; ``False`` if this attempt no longer holds it."""
        with write_session(self.sessions) as session:
            result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(models.ExportBatch).where(
                    models.ExportBatch.id == self.batch_id, models.ExportBatch.status == models.BatchStatus.DELIVERING,
                    models.ExportBatch.attempts == self.attempt,
                ).values(lease_until=self.clock() + timedelta(seconds=self.seconds)))
            return result.rowcount == 1

    def _run(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                if not self.renew():
                    return
            except Exception:  # noqa: BLE001 - a failed renewal is logged; the next one may work
                log.exception("renewing the lease of export batch %s failed", self.batch_id)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()


def batch_name(batch: models.ExportBatch) -> str:
    """Unique per batch and stable across retries; carries the batch key (the idempotency key)."""
    return f"{batch.created_at:%Y%m%dT%H%M%SZ}-{batch.credential}-batch-{batch.id}-{batch.key[:16]}"


def render_batch(exports: Exports, batch: models.ExportBatch, claims: list[Claim]) -> Export:
    exporter = exports.exporters.get(batch.exporter or "claims-csv")
    if exporter is None:
        raise DeliveryError(f"exporter {batch.exporter!r} is no longer installed", permanent=True)
    name = batch_name(batch)
    subject, body = exporter.message(batch.credential, claims)
    return Export(key=batch.key, name=name, credential=batch.credential,
                  files=tuple(exporter.render(name, claims)), subject=subject, body=body,
                  claim_keys=tuple(c.idempotency_key for c in claims))


def deliver_batch(
    sessions: sessionmaker[Session], batch_id: int, attempt: int, exports: Exports,
    settings: ExportSettings, now: datetime,
) -> dict[str, Any]:
    """Render and deliver a leased batch; returns what happened (for the tick's report)."""
    with read_session(sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        assert batch is not None
        claims = batch_claims(session, batch_id)
        credential, destination = batch.credential, batch.destination
        tries = attempt - batch.attempts_before_retry
        overdue = batch.deadline_at is not None and batch.deadline_at < now
        export: Export | None = None
        try:
            export = render_batch(exports, batch, claims)
        except Exception as exc:  # noqa: BLE001 - a batch that cannot be rendered is recorded, not lost
            unrendered: Exception = exc
    if export is None and len(claims) > 1 and set_aside_unrenderable(
            sessions, exports, batch_id, attempt, claims, unrendered):
        return deliver_batch(sessions, batch_id, attempt, exports, settings, now)
    if overdue:
        log.warning("export batch %s (%s) is past its reporting deadline", batch_id, credential)
    outcome = {"batch": batch_id, "credential": credential, "claims": len(claims),
               "destination": destination, "attempt": attempt, "overdue": overdue}
    try:
        if export is None:
            raise unrendered
        if destination not in exports.destinations:
            raise DeliveryError(f"destination {destination!r} is no longer in config/exports.toml")
        receipt = exports.destination(destination).deliver(export)
    except Exception as exc:  # noqa: BLE001 - every delivery failure is recorded, retried or dead-lettered
        return {**outcome, **record_failure(sessions, batch_id, attempt, tries, exc, exports, settings, now)}
    record_delivery(sessions, batch_id, attempt, receipt)
    log.info("export batch %s: %d %s claim(s) to %s: %s", batch_id, len(claims), credential,
             destination, receipt)
    return {**outcome, "delivered": True, "file": receipt.get("path"), "receipt": receipt}


def set_aside_unrenderable(
    sessions: sessionmaker[Session], exports: Exports, batch_id: int, attempt: int, claims: list[Claim],
    error: Exception,
) -> bool:
    """A batch that cannot be rendered: find the claims that cannot be rendered alone, move each
    into a batch of its own in the dead letter (with the error), and give the held batch the key of
    the claims that remain, so one bad claim never holds the others. ``False`` if no claim fails
    alone (then the batch fails as a whole)."""
    with read_session(sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        assert batch is not None
        bad: dict[str, str] = {}
        for claim in claims:
            try:
                render_batch(exports, batch, [claim])
            except Exception as exc:  # noqa: BLE001 - the reason is kept on the claim's own batch
                bad[claim.idempotency_key] = f"{type(exc).__name__}: {exc}"
    if not bad or len(bad) == len(claims):
        return False
    with write_session(sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        if batch is None or batch.status != models.BatchStatus.DELIVERING or batch.attempts != attempt:
            return False
        rows = {c.idempotency_key: c for c in session.scalars(
            select(models.OutboxClaim).where(models.OutboxClaim.batch_id == batch_id))}
        for key, reason in bad.items():
            dead = models.ExportBatch(
                credential=batch.credential, destination=batch.destination, exporter=batch.exporter,
                key=batch_key([key]), status=models.BatchStatus.DEAD, attempts=0, next_attempt_at=batch.next_attempt_at,
                created_at=batch.created_at, deadline_at=batch.deadline_at,
                last_error=f"cannot be rendered: {reason}")
            session.add(dead)
            session.flush()
            rows[key].batch_id = dead.id
            log.error("export claim %s set aside from batch %s into dead batch %s: %s", key, batch_id,
                      dead.id, reason)
        batch.key = batch_key([c.idempotency_key for c in claims if c.idempotency_key not in bad])
    log.warning("export batch %s: %d claim(s) could not be rendered (%s); the other %d go on",
                batch_id, len(bad), error, len(claims) - len(bad))
    return True


def record_delivery(sessions: sessionmaker[Session], batch_id: int, attempt: int,
                    receipt: dict[str, Any]) -> None:
    finished = models.utcnow()
    with write_session(sessions) as session:
        session.execute(update(models.ExportBatch).where(
            models.ExportBatch.id == batch_id, models.ExportBatch.status != models.BatchStatus.DELIVERED,
        ).values(status=models.BatchStatus.DELIVERED, receipt=receipt, delivered_at=finished, lease_until=None,
                 last_error=None).execution_options(synchronize_session=False))
        session.execute(update(models.ExportAttempt).where(
            models.ExportAttempt.batch_id == batch_id, models.ExportAttempt.attempt == attempt,
        ).values(outcome=models.AttemptOutcome.DELIVERED, finished_at=finished, receipt=receipt, error=None)
            .execution_options(synchronize_session=False))


def backoff_seconds(attempt: int, settings: ExportSettings, retry_after: float | None) -> float:
    """Exponential backoff with jitter (half to all of base * 2^(attempt-1), capped), and never
    sooner than the receiver's ``Retry-After``."""
    delay = min(settings.retry_base_seconds * 2.0 ** (attempt - 1), settings.retry_max_seconds)
    delay *= random.uniform(0.5, 1.0)
    return max(delay, retry_after) if retry_after is not None else delay


def record_failure(
    sessions: sessionmaker[Session], batch_id: int, attempt: int, tries: int, exc: Exception,
    exports: Exports, settings: ExportSettings, now: datetime,
) -> dict[str, Any]:
    """Record a failed attempt (``tries``: attempts since the batch was formed or retried by hand)."""
    permanent = isinstance(exc, DeliveryError) and exc.permanent
    dead = permanent or tries >= exports.config.delivery.max_attempts
    retry_after = exc.retry_after if isinstance(exc, DeliveryError) else None
    finished = models.utcnow()
    retry_at = max(now, finished) + timedelta(seconds=backoff_seconds(tries, settings, retry_after))
    error = f"{type(exc).__name__}: {exc}"
    with write_session(sessions) as session:
        held = rows_changed(session.execute(update(models.ExportBatch).where(
            models.ExportBatch.id == batch_id, models.ExportBatch.status == models.BatchStatus.DELIVERING,
            models.ExportBatch.attempts == attempt,
        ).values(status=models.BatchStatus.DEAD if dead else models.BatchStatus.FAILED, last_error=error,
                 lease_until=None, next_attempt_at=retry_at))) == 1
        session.execute(update(models.ExportAttempt).where(
            models.ExportAttempt.batch_id == batch_id, models.ExportAttempt.attempt == attempt,
        ).values(outcome=models.AttemptOutcome.DEAD if dead else models.AttemptOutcome.FAILED,
                 finished_at=finished, error=error, retry_at=None if dead else retry_at))
    if held:
        log.warning("export batch %s attempt %d %s: %s", batch_id, attempt, "dead" if dead else
                    f"failed, retry at {retry_at:%Y-%m-%d %H:%M:%S}Z", error)
    else:
        log.warning("export batch %s attempt %d failed after its lease was taken over: %s",
                    batch_id, attempt, error)
    return {"delivered": False, "error": str(exc), "dead": dead and held, "permanent": permanent,
            "retry_at": None if dead else retry_at.isoformat()}


def retry_batch(session: Session, batch_id: int) -> dict[str, Any]:
    """Put a dead or failed batch back in line now, in the caller's transaction (``lti-tool export
    retry ID``; the administrator page audit-logs it in the same transaction)."""
    batch = session.get(models.ExportBatch, batch_id)
    if batch is None:
        raise BatchNotFound(f"no export batch with id {batch_id}")
    if batch.status not in (models.BatchStatus.DEAD, models.BatchStatus.FAILED):
        raise ValueError(f"batch {batch_id} is {batch.status}; only dead or failed batches are retried")
    log.info("export batch %s (%s) put back in line by hand after: %s", batch.id, batch.credential,
             batch.last_error)
    # The attempt count goes on (it numbers the attempts); max_attempts counts from here.
    batch.status, batch.lease_until, batch.next_attempt_at = models.BatchStatus.PENDING, None, models.utcnow()
    batch.attempts_before_retry = batch.attempts
    return {"batch": batch.id, "credential": batch.credential, "status": batch.status,
            "last_error": batch.last_error}

