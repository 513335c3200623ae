"""Delivering one batch: lease, render, send, and record the outcome.

1. The batch is *leased* for one attempt (:mod:`~lti_tool.services.export_lease`: the attempt
   number is the lease's fencing token, renewed while the delivery runs).
2. The batch is rendered from its claims (deterministically: a retry sends the same bytes under the
   same key: file names, ``Message-ID``, ``webhook-id``) and delivered.
3. Only a receiver's acceptance marks it ``delivered``, with the receipt (an acceptance always wins,
   even after the lease ran out). A failure is recorded by the lease's holder only: retried with
   exponential backoff and jitter, never sooner than ``Retry-After``; a permanent refusal or too many
   attempts moves the batch to the dead letter (``dead``) with its last error, until
   ``lti-tool export retry ID``.

Transactions: rendering and sending hold no transaction nor lock: :func:`attempt_delivery` reads
the batch in a read transaction of its own, then renders and sends it (:func:`deliver_claims` when
the caller read the claims, :func:`send` when it also rendered them); its outcome is recorded in
the caller's write transaction (:func:`record_attempt`, :func:`record_delivery`,
:func:`record_failure`), where the tick also leases its next batch (one commit a batch).
:func:`deliver_batch` does both with a transaction of its own for the record. A failure's record,
its backoff and the retry by hand are :mod:`~lti_tool.services.export_retries`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import read_session, table_of, write_session
from lti_tool.exports.base import DeliveryError, Export
from lti_tool.exports.claim import Claim
from lti_tool.exports.config import Exports
from lti_tool.services.export_batching import batch_key
from lti_tool.services.export_claims import batch_claims
from lti_tool.services.export_lease import BatchFacts
from lti_tool.services.export_lease import lease as lease
from lti_tool.services.export_retries import record_failure
from lti_tool.settings import ExportSettings

log = logging.getLogger(__name__)

_batches = table_of(models.ExportBatch)
_attempts = table_of(models.ExportAttempt)


def batch_name(batch: BatchFacts) -> str:
    """Unique per batch and stable across retries; carries the batch key (the idempotency key)."""
    return f"{batch.created_at:%Y%m%dT%H%M%SZ}-{batch.credential}-batch-{batch.id}-{batch.key[:16]}"


def render_batch(exports: Exports, batch: BatchFacts, claims: list[Claim]) -> Export:
    exporter = exports.exporters.get(batch.exporter or "claims-csv")
    if exporter is None:
        raise DeliveryError(f"exporter {batch.exporter!r} is no longer installed", permanent=True)
    name = batch_name(batch)
    subject, body = exporter.message(batch.credential, claims)
    return Export(key=batch.key, name=name, credential=batch.credential,
                  files=tuple(exporter.render(name, claims)), subject=subject, body=body,
                  claim_keys=tuple(c.idempotency_key for c in claims))


@dataclass
class Attempted:
    """A delivery attempt that has run and is not recorded yet: what the receiver said."""

    batch_id: int
    attempt: int
    tries: int
    """Attempts since the batch was formed or retried by hand (``max_attempts`` counts these)."""
    report: dict[str, Any]
    receipt: dict[str, Any] | None = None
    error: Exception | None = None


def attempt_delivery(
    sessions: sessionmaker[Session], batch_id: int, attempt: int, exports: Exports, now: datetime,
) -> Attempted:
    """Render and deliver a leased batch, read in a read transaction of its own; the outcome is for
    :func:`record_attempt` to record."""
    with read_session(sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        assert batch is not None
        facts = BatchFacts.of(batch)
        claims = batch_claims(session, batch_id)
    return deliver_claims(sessions, facts, attempt, claims, exports, now)


def deliver_claims(
    sessions: sessionmaker[Session], batch: BatchFacts, attempt: int, claims: list[Claim], exports: Exports,
    now: datetime,
) -> Attempted:
    """Render and deliver a leased batch whose claims the caller read, outside any transaction; the
    outcome is for :func:`record_attempt` to record."""
    return send(exports, batch, attempt, claims, rendered(exports, batch, claims), now, sessions)


def rendered(exports: Exports, batch: BatchFacts, claims: list[Claim]) -> Export | Exception:
    """The batch rendered, or why it could not be (recorded as the attempt's failure, not lost)."""
    try:
        return render_batch(exports, batch, claims)
    except Exception as exc:  # noqa: BLE001 - a batch that cannot be rendered is recorded, not lost
        return exc


def send(
    exports: Exports, batch: BatchFacts, attempt: int, claims: list[Claim], export: Export | Exception,
    now: datetime, sessions: sessionmaker[Session],
) -> Attempted:
    """Deliver a leased batch rendered from ``claims`` (``export``, or why it could not be rendered:
    then its claims that cannot be rendered alone are set aside and the rest delivered)."""
    batch_id, credential, destination = batch.id, batch.credential, batch.destination
    if isinstance(export, Exception) and len(claims) > 1 and set_aside_unrenderable(
            sessions, exports, batch_id, attempt, claims, export):
        return attempt_delivery(sessions, batch_id, attempt, exports, now)
    tries = attempt - batch.attempts_before_retry
    overdue = batch.deadline_at is not None and batch.deadline_at < now
    if overdue:
        log.warning("export batch %s (%s) is past its reporting deadline", batch_id, credential)
    attempted = Attempted(batch_id, attempt, tries, {
        "batch": batch_id, "credential": credential, "claims": len(claims), "destination": destination,
        "attempt": attempt, "overdue": overdue})
    try:
        if isinstance(export, Exception):
            raise export
        if destination not in exports.destinations:
            raise DeliveryError(f"destination {destination!r} is no longer in config/exports.toml")
        attempted.receipt = exports.destination(destination).deliver(export)
    except Exception as exc:  # noqa: BLE001 - every delivery failure is recorded, retried or dead-lettered
        attempted.error = exc
    return attempted


def record_attempt(session: Session, attempted: Attempted, exports: Exports, settings: ExportSettings,
                   now: datetime) -> dict[str, Any]:
    """Record what an attempt came to, in the caller's transaction; returns its entry of the tick's
    report (``delivered`` says which list)."""
    report = attempted.report
    if attempted.error is not None:
        return {**report, **record_failure(session, attempted.batch_id, attempted.attempt, attempted.tries,
                                           attempted.error, exports, settings, now)}
    record_delivery(session, attempted.batch_id, attempted.attempt, attempted.receipt or {})
    return delivered_entry(attempted)


def delivered_entry(attempted: Attempted) -> dict[str, Any]:
    """The tick's report entry of an accepted attempt, once it is recorded (:func:`log_delivered`
    logs it after the commit)."""
    report, receipt = attempted.report, attempted.receipt or {}
    return {**report, "delivered": True, "file": receipt.get("path"), "receipt": receipt}


def log_delivered(entry: dict[str, Any]) -> None:
    """The log line of a delivery, once its record is committed (a transaction that fails and is
    recorded again does not log it twice)."""
    log.info("export batch %s: %d %s claim(s) to %s: %s", entry["batch"], entry["claims"],
             entry["credential"], entry["destination"], entry["receipt"])


def deliver_batch(
    sessions: sessionmaker[Session], batch_id: int, attempt: int, exports: Exports,
    settings: ExportSettings, now: datetime,
) -> dict[str, Any]:
    """Render and deliver a leased batch and record the outcome in a transaction of its own;
    returns what happened (an entry of the tick's report)."""
    attempted = attempt_delivery(sessions, batch_id, attempt, exports, now)
    with write_session(sessions) as session:
        recorded = record_attempt(session, attempted, exports, settings, now)
    if recorded["delivered"]:
        log_delivered(recorded)
    return recorded


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
        facts = BatchFacts.of(batch)
        for claim in claims:
            try:
                render_batch(exports, facts, [claim])
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


DELIVERED = update(_batches).where(
    _batches.c.id == bindparam("done_id"), _batches.c.status != models.BatchStatus.DELIVERED,
).values(status=models.BatchStatus.DELIVERED, receipt=bindparam("done_receipt"), delivered_at=bindparam("done_at"),
         lease_until=None, last_error=None)
ATTEMPT_DELIVERED = update(_attempts).where(
    _attempts.c.batch_id == bindparam("done_id"), _attempts.c.attempt == bindparam("done_attempt"),
).values(outcome=models.AttemptOutcome.DELIVERED, finished_at=bindparam("done_at"),
         receipt=bindparam("done_receipt"), error=None)
"""Built once: a tick records every batch it delivers."""


def delivery_parameters(batch_id: int, attempt: int, receipt: dict[str, Any]) -> dict[str, Any]:
    """The parameters of :data:`DELIVERED` and :data:`ATTEMPT_DELIVERED`: delivered now."""
    return {"done_id": batch_id, "done_attempt": attempt, "done_receipt": receipt, "done_at": models.utcnow()}


def record_delivery(session: Session, batch_id: int, attempt: int, receipt: dict[str, Any]) -> None:
    """The receiver accepted the batch: it is delivered (whoever holds the lease now)."""
    parameters = delivery_parameters(batch_id, attempt, receipt)
    connection = session.connection()
    connection.execute(DELIVERED, parameters)
    connection.execute(ATTEMPT_DELIVERED, parameters)
