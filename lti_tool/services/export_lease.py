"""Leasing a batch for one delivery attempt, and keeping the lease while the attempt runs.

The batch is *leased* with a conditional update that also counts the attempt; the attempt number is
the lease's fencing token. A lease runs from the moment it is taken (not from the tick's start) and
:class:`LeaseKeeper` renews it while the delivery runs, so two ticks (the scheduler and ``lti-tool
export run``, or two hosts) never deliver the same batch at once, however long a tick or a delivery
takes; a lease left by a killed process is no longer renewed and expires, the next tick takes the
batch up again, and the killed attempt is recorded as ``interrupted``.

:func:`take_lease` runs in the caller's transaction, so the tick records one batch's outcome and
leases the next in one commit (:func:`lti_tool.services.exporting.run_export_tick`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import rows_changed, table_of, write_session

log = logging.getLogger(__name__)

_batches = table_of(models.ExportBatch)
_attempts = table_of(models.ExportAttempt)
BATCH_FACTS_COLUMNS = (_batches.c.id, _batches.c.credential, _batches.c.destination, _batches.c.exporter,
                       _batches.c.key, _batches.c.created_at, _batches.c.deadline_at, _batches.c.attempts_before_retry)
"""A batch's columns in :class:`BatchFacts`' order."""

INTERRUPTED_ERROR = "the process ended during this attempt; its lease expired"

# Built once: a tick leases every batch it delivers.
TAKE = (
    update(_batches)
    .where(_batches.c.id == bindparam("take_id"), _batches.c.status.in_(models.OPEN_BATCH_STATUSES),
           # Due, as the tick that read it as due found it: another tick may have failed it since
           # (which frees the lease), and then it waits for its retry time like any failed batch.
           _batches.c.next_attempt_at <= bindparam("take_now"),
           (_batches.c.lease_until.is_(None)) | (_batches.c.lease_until < bindparam("take_now")))
    .values(status=models.BatchStatus.DELIVERING, lease_until=bindparam("take_until"),
            attempts=_batches.c.attempts + 1)
    .returning(_batches.c.attempts, *BATCH_FACTS_COLUMNS)
)
INTERRUPTED = (
    update(_attempts)
    .where(_attempts.c.batch_id == bindparam("take_id"), _attempts.c.outcome.is_(None))
    .values(outcome=models.AttemptOutcome.INTERRUPTED, finished_at=bindparam("take_now"),
            error=INTERRUPTED_ERROR)
)
STARTED = insert(_attempts)


@dataclass(frozen=True)
class BatchFacts:
    """What delivering a batch needs to know of it (read by the lease that takes it, or from its row)."""

    id: int
    credential: str
    destination: str
    exporter: str | None
    key: str
    created_at: datetime
    deadline_at: datetime | None
    attempts_before_retry: int

    @classmethod
    def of(cls, batch: models.ExportBatch) -> BatchFacts:
        return cls(batch.id, batch.credential, batch.destination, batch.exporter, batch.key, batch.created_at,
                   batch.deadline_at, batch.attempts_before_retry)


def take_batch(session: Session, batch_id: int, now: datetime, seconds: float) -> tuple[int, BatchFacts] | None:
    """Take the batch for one attempt, in the caller's transaction; returns the attempt number and
    the batch as the lease found it, ``None`` if another tick holds it (or it is no longer open, or
    not due yet: its retry time). The lease ends ``seconds`` after ``now``, the moment it is taken."""
    connection = session.connection()
    taken = connection.execute(TAKE, take_parameters(batch_id, now, seconds)).first()
    if taken is None:
        return None
    attempts, *facts = taken
    batch = BatchFacts(*facts)
    if attempts > 1:  # an earlier attempt may have been cut short by its process's end
        connection.execute(INTERRUPTED, {"take_id": batch_id, "take_now": now})
    connection.execute(STARTED, {"batch_id": batch_id, "attempt": attempts, "destination": batch.destination,
                                  "started_at": now})
    return int(attempts), batch


def take_parameters(batch_id: int, now: datetime, seconds: float) -> dict[str, Any]:
    """The parameters of :data:`TAKE` (and of :data:`INTERRUPTED`)."""
    return {"take_id": batch_id, "take_now": now, "take_until": now + timedelta(seconds=seconds)}


def take_lease(session: Session, batch_id: int, now: datetime, seconds: float) -> int | None:
    """:func:`take_batch`'s attempt number."""
    taken = take_batch(session, batch_id, now, seconds)
    return taken[0] if taken is not None else None


def lease(sessions: sessionmaker[Session], batch_id: int, now: datetime, seconds: float) -> int | None:
    """:func:`take_lease` in a transaction of its own."""
    with write_session(sessions) as session:
        return take_lease(session, batch_id, now, seconds)


class LeaseKeeper:
    """Renews the lease a tick holds while its delivery runs (a context manager around the tick).

    A thread moves ``lease_until`` of the batch the tick holds (:meth:`hold`) to ``clock() +
    seconds`` every third of the lease, only while the batch is still ``delivering`` under that
    attempt (the fencing token), so a delivery that outlasts the lease is never taken over by
    another tick; a killed process stops renewing and its lease runs out as before. One thread
    serves the whole tick: a lease is renewed at most a third of the lease after it was taken.
    """

    def __init__(self, sessions: sessionmaker[Session], seconds: float,
                 clock: Callable[[], datetime] = models.utcnow) -> None:
        self.sessions, self.seconds, self.clock = sessions, seconds, clock
        self._held: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="export-lease", daemon=True)

    def hold(self, batch_id: int, attempt: int) -> None:
        """Renew this batch's lease (under this attempt) from now on."""
        with self._lock:
            self._held = (batch_id, attempt)

    def release(self) -> None:
        """Renew nothing (the held batch's outcome is recorded)."""
        with self._lock:
            self._held = None

    def renew(self) -> bool:
        """Extend the held lease now; ``False`` if nothing is held or this attempt no longer holds it."""
        with self._lock:
            held = self._held
        if held is None:
            return False
        batch_id, attempt = held
        with write_session(self.sessions) as session:
            renewed = rows_changed(session.execute(update(_batches).where(
                _batches.c.id == batch_id, _batches.c.status == models.BatchStatus.DELIVERING,
                _batches.c.attempts == attempt,
            ).values(lease_until=self.clock() + timedelta(seconds=self.seconds)))) == 1
        if not renewed:
            with self._lock:
                if self._held == held:
                    self._held = None
        return renewed

    def _run(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.renew()
            except Exception:  # noqa: BLE001 - a failed renewal is logged; the next one may work
                log.exception("renewing the lease of export batch %s failed", self._held)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
