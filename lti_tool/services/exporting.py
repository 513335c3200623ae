"""The export tick: gather ready claims into batches, then deliver each due batch once.

The parts: :mod:`~lti_tool.services.export_batching` (which claims go together, which batches are
due: nearest reporting deadline first), :mod:`~lti_tool.services.export_delivery` (lease, render,
send, record, retry, dead letter), :mod:`~lti_tool.services.export_status` (where claims stand).
A tick is idempotent: it reads what is due from the database, so a missed, doubled or crashed tick
loses nothing and the next one does the work.

Transactions: :func:`run_export_tick` is the export's one runner of several transactions (services
elsewhere take the caller's ``Session``): batches are formed in one write transaction and the due
ones read in another; then each batch is leased in a write transaction, sent (delivered) outside
any, and its outcome recorded in the write transaction that leases the next batch (one commit a
batch, :mod:`~lti_tool.services.export_delivery`), so a slow receiver holds no database lock, a
batch is leased only when its sending begins, and a crash mid-delivery leaves a lease that expires
(the delivered file is replaced, under the same name, by the retry).

Overlap: a batch is sent in a delivery thread; meanwhile the tick reads and renders the next one
(a read transaction, no lease: rendering is pure), and then leases it in the transaction that
records the batch sent. The lease returns the batch's key: if it changed since it was read (its
holder set aside a claim, which changes the key), the claims are read again under the lease and
rendered in the delivery thread; a batch another tick leased meanwhile is not sent. The first
batch, and one whose read ahead failed, is read in the transaction that leases it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.base import Export
from lti_tool.exports.claim import Claim
from lti_tool.exports.config import Exports
from lti_tool.services.export_batching import due_batches, form_batches
from lti_tool.services.export_claims import ClaimRows, batch_rows, claims_of
from lti_tool.services.export_delivery import Attempted, deliver_claims, record_attempt, rendered, send
from lti_tool.services.export_lease import BatchFacts, LeaseKeeper, batch_facts, take_batch
from lti_tool.settings import ExportSettings

log = logging.getLogger(__name__)


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
    """One tick, for ``credentials`` (default: all but ``exclude``, those with their own cron).

    ``now`` is the tick's start; each lease is taken at the tick's clock when it is taken (``now``
    plus the time the tick has run), never at its start, and is renewed while its delivery runs.
    """
    now = now or models.utcnow()
    started = time.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    with write_session(sessions) as session:
        form_batches(session, now, exports, credentials=credentials, exclude=exclude)
    with read_session(sessions) as session:
        due = due_batches(session, now, credentials=credentials, exclude=exclude)
    report = TickReport()
    flight: Future[Attempted] | None = None  # the batch being sent, in the delivery thread
    with LeaseKeeper(sessions, settings.lease_seconds, clock) as keeper, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-delivery") as sender:
        for batch_id in [*due, None]:
            if flight is None and batch_id is None:
                break
            # While the last batch is sent, the next one is read and rendered (it is not leased yet).
            ahead = prepare(sessions, exports, batch_id) if flight is not None and batch_id is not None else None
            attempted = flight.result() if flight is not None else None
            flight = None
            # One commit a batch: the last batch's outcome and the next one's lease together (and its
            # claims, unless they were read ahead and the batch is as they were read).
            with write_session(sessions) as session:
                recorded = record_attempt(session, attempted, exports, settings, now) if attempted else None
                taken = take_batch(session, batch_id, clock(), settings.lease_seconds) if batch_id else None
                if taken is not None and (ahead is None or not ahead.renders_as(taken[1])):
                    ahead = None
                    rows = batch_rows(session, taken[1].id)
            if recorded is not None:
                (report.delivered if recorded.pop("delivered") else report.failed).append(recorded)
            if taken is None:
                keeper.release()
                continue
            attempt, batch = taken
            keeper.hold(batch.id, attempt)
            if ahead is None:
                flight = sender.submit(deliver_rows, sessions, batch, attempt, rows, exports, now)
            else:
                flight = sender.submit(send, exports, batch, attempt, ahead.claims, ahead.export, now, sessions)
    return report


@dataclass(frozen=True)
class Prepared:
    """A batch read and rendered before its lease, while the one before it is being sent."""

    batch: BatchFacts
    claims: list[Claim]
    export: Export | Exception

    def renders_as(self, leased: BatchFacts) -> bool:
        """Whether the batch as leased renders as it was rendered here: the same claims (its key
        names them) under the same exporter."""
        return (leased.key, leased.exporter) == (self.batch.key, self.batch.exporter)


def prepare(sessions: sessionmaker[Session], exports: Exports, batch_id: int) -> Prepared | None:
    """The batch read and rendered ahead (``None`` if it cannot be: then it is read under its lease,
    and whatever failed here fails there, as it would have). Its lease returns the batch again: one
    that changed since (its holder set aside a claim it could not render, which changes its key) is
    read and rendered again."""
    try:
        with read_session(sessions) as session:
            batch = batch_facts(session, batch_id)
            if batch is None:
                return None
            rows = batch_rows(session, batch_id)
        claims = claims_of(rows)
    except Exception:  # noqa: BLE001 - read again under the lease
        log.debug("export batch %s could not be read ahead", batch_id, exc_info=True)
        return None
    return Prepared(batch, claims, rendered(exports, batch, claims))


def deliver_rows(sessions: sessionmaker[Session], batch: BatchFacts, attempt: int, rows: ClaimRows,
                 exports: Exports, now: datetime) -> Attempted:
    """:func:`deliver_claims` of the claims made of ``rows`` (in the delivery thread)."""
    return deliver_claims(sessions, batch, attempt, claims_of(rows), exports, now)
