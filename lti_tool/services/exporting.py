"""The export tick: gather ready claims into batches, then deliver each due batch once.

The parts: :mod:`~lti_tool.services.export_batching` (which claims go together, which batches are
due: nearest reporting deadline first), :mod:`~lti_tool.services.export_rounds` (the batches
written in rounds, on PostgreSQL while the tick delivers), :mod:`~lti_tool.services.export_delivery` (lease, render,
send, record), :mod:`~lti_tool.services.export_retries` (a failure's backoff, the dead letter, the
retry by hand), :mod:`~lti_tool.services.export_status` (where claims stand).
A tick is idempotent: it reads what is due from the database, so a missed, doubled or crashed tick
loses nothing and the next one does the work.

Transactions: :func:`run_export_tick` is the export's one runner of several transactions (services
elsewhere take the caller's ``Session``): the batches are planned in a read transaction and formed
in rounds, a write transaction each (the first before delivery begins, the later ones on
PostgreSQL while it runs), and the due ones read after the first round; then each batch is leased
in a write transaction, sent (delivered) outside any, and its outcome recorded in the write
transaction that leases the next batch (one commit a batch,
:mod:`~lti_tool.services.export_delivery`), so a slow receiver holds no database lock, a batch is
leased only when its sending begins, and a crash mid-delivery leaves a lease that expires (the
delivered file is replaced, under the same name, by the retry).

Overlap: leasing, sending and recording run in a delivery thread (:class:`Courier`: each step
records the batch sent before and leases the next in one transaction, then sends it); meanwhile
the tick's thread reads and renders the batch after it (a read transaction, no lease: rendering is
pure). The lease returns the batch's key: if it changed since it was read (its holder set aside a
claim, which changes the key), the claims are read again under the lease and rendered in the
delivery thread; a batch another tick leased meanwhile is not sent. The first batch, and one whose
read ahead failed, is read in the transaction that leases it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.base import Export
from lti_tool.exports.claim import Claim
from lti_tool.exports.config import Exports
from lti_tool.services import export_rounds
from lti_tool.services.export_batching import due_batch_facts, plan_batches
from lti_tool.services.export_claims import BATCH_CLAIMS, ClaimRows, batch_rows, claims_of
from lti_tool.services.export_delivery import Attempted, deliver_claims, log_delivered, record_attempt, rendered, send
from lti_tool.services.export_handover import record_and_take
from lti_tool.services.export_lease import BatchFacts, LeaseKeeper
from lti_tool.services.export_rounds import Former, in_deadline_order, in_rounds, write_round
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

    with read_session(sessions) as session:
        planned = plan_batches(session, now, exports, credentials=credentials, exclude=exclude)
    rounds = in_rounds(planned, export_rounds.ROUND_CLAIMS)
    later = rounds[1:] if rounds and write_round(sessions, rounds[0]) is not None else []
    with read_session(sessions) as session:
        due = due_batch_facts(session, now, credentials=credentials, exclude=exclude)
    report = TickReport()
    courier = Courier(sessions, exports, settings, now, clock, report)
    step: Future[None] | None = None  # the delivery thread's step: record the last, lease and send the next
    with Former(sessions, later) as former, LeaseKeeper(sessions, settings.lease_seconds, clock) as keeper, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-delivery") as sender:
        courier.keeper = keeper

        def settle() -> None:
            """Before waiting for a round: the batch sent last is recorded now, not once it lands."""
            nonlocal step
            sending, step = step, None
            if sending is not None:
                sending.result()
            sender.submit(courier.record_last).result()

        try:
            for batch in in_deadline_order(due, former.landed, former.upcoming, settle):
                # While the delivery thread records the last batch, leases and sends this one's
                # predecessor, this batch is read and rendered (it is not leased yet).
                ahead = prepare(sessions, exports, batch) if step is not None else None
                if step is not None:
                    step.result()
                step = sender.submit(courier.take_and_send, batch.id, ahead)
            if step is not None:
                step.result()
        except BaseException:
            # Also when a step failed: a batch the receiver accepted is recorded, not sent again
            # once its lease runs out (after the step under way, if the tick's thread failed).
            # The tick ends with the step's error, not with a second one recording it.
            try:
                sender.submit(courier.record_last).result()
            except Exception:  # noqa: BLE001 - logged; the step's error is the one raised
                log.exception("export tick: the batch sent last could not be recorded either")
            raise
        sender.submit(courier.record_last).result()
    if former.error is not None:  # raised after delivering the batches formed before it
        log.error("export tick: %d batch(es) delivered and %d failed before forming the rest failed",
                  len(report.delivered), len(report.failed))
        raise former.error
    return report


@dataclass
class Courier:
    """The delivery thread's side of a tick: each step records the batch sent before (if any) and
    leases the next in one write transaction (one commit a batch), then sends it. The tick's thread
    meanwhile reads and renders the batch after it, so the database's and the file system's waits
    overlap with rendering."""

    sessions: sessionmaker[Session]
    exports: Exports
    settings: ExportSettings
    now: datetime
    clock: Callable[[], datetime]
    report: TickReport
    keeper: LeaseKeeper | None = None
    sent: Attempted | None = None
    """The batch sent and not recorded yet."""

    def take_and_send(self, batch_id: int, ahead: Prepared | None) -> None:
        assert self.keeper is not None
        sent, self.sent = self.sent, None
        try:
            with write_session(self.sessions) as session:
                recorded, taken = record_and_take(session, sent, batch_id, self.clock(),
                                                  self.settings.lease_seconds, self.exports, self.settings, self.now)
                if taken is not None and (ahead is None or not ahead.renders_as(taken[1])):
                    ahead = None  # read again under the lease: the batch is not as it was read ahead
                    rows = batch_rows(session, taken[1].id)
        except BaseException:
            self.sent = sent  # not recorded (rolled back): :meth:`record_last` records it
            raise
        self._report(recorded)
        if taken is None:  # another tick holds it, or it is no longer due
            self.keeper.release()
            return
        attempt, batch = taken
        self.keeper.hold(batch.id, attempt)
        if ahead is None:
            self.sent = deliver_claims(self.sessions, batch, attempt, claims_of(rows), self.exports, self.now)
        else:
            self.sent = send(self.exports, batch, attempt, ahead.claims, ahead.export, self.now, self.sessions)

    def record_last(self) -> None:
        """Record the last batch sent, in a write transaction of its own."""
        if self.sent is None:
            return
        sent, self.sent = self.sent, None
        try:
            with write_session(self.sessions) as session:
                recorded = record_attempt(session, sent, self.exports, self.settings, self.now)
        except BaseException:
            self.sent = sent  # not recorded (rolled back): the tick's way out tries again
            raise
        self._report(recorded)
        assert self.keeper is not None
        self.keeper.release()

    def _report(self, recorded: dict[str, Any] | None) -> None:
        """Called once the record is committed."""
        if recorded is None:
            return
        if recorded.pop("delivered"):
            log_delivered(recorded)
            self.report.delivered.append(recorded)
        else:
            self.report.failed.append(recorded)


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


def prepare(sessions: sessionmaker[Session], exports: Exports, batch: BatchFacts) -> Prepared | None:
    """The batch (as the tick read it due) read and rendered ahead (``None`` if it cannot be: then it
    is read under its lease, and whatever failed here fails there, as it would have). Its lease
    returns the batch again: one that changed since it was read due (its holder set aside a claim it
    could not render, which changes its key) is read and rendered again.

    The claims are read by one statement, on PostgreSQL outside a transaction (a statement reads
    one snapshot; no ``BEGIN`` and ``COMMIT`` round trips)."""
    try:
        rows = read_ahead_rows(sessions, batch.id)
        claims = claims_of(rows)
    except Exception:  # noqa: BLE001 - read again under the lease
        log.debug("export batch %s could not be read ahead", batch.id, exc_info=True)
        return None
    return Prepared(batch, claims, rendered(exports, batch, claims))


def read_ahead_rows(sessions: sessionmaker[Session], batch_id: int) -> ClaimRows:
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        with read_session(sessions) as session:
            return batch_rows(session, batch_id)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(BATCH_CLAIMS, {"batch_id": batch_id}).all()
