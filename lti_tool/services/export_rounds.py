"""Forming a tick's batches in rounds, delivered as they are formed.

The tick plans every batch its ready claims make (one read), then writes the plan in rounds of
about :data:`ROUND_CLAIMS` claims, nearest deadline first, each round in a write transaction of its
own: the batches inserted and their claims put into them, together. The first round is written
before delivery begins; on PostgreSQL the later ones are written by a thread (:class:`Former`)
while the tick delivers, each handed to the tick as it commits, so the database's work of giving a
large backlog's claims their batches overlaps with reading, rendering and sending the batches
formed before. Everywhere, no transaction holds more than a round's claims (on SQLite, the
writer's turn is free between rounds for the events arriving meanwhile), and a crash keeps the
rounds written (the rest is planned again by the next tick).

A round whose claims another tick batched since the plan was read is rolled back
(:class:`~lti_tool.services.export_batching.ClaimsTaken`) and no later round is written: that tick
formed them, and whichever tick holds a batch's lease delivers it.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from lti_tool.db import write_session
from lti_tool.services.export_batching import ClaimsTaken, PlannedBatch, batch_facts, write_batches
from lti_tool.services.export_lease import BatchFacts

log = logging.getLogger(__name__)

ROUND_CLAIMS = 5_000
"""The claims a round puts into batches (a round holds at least one batch)."""

OVERLAPPED = frozenset({"postgresql"})
"""The databases whose later rounds are written while the tick delivers. On SQLite a round's work
runs in the tick's own process, under its interpreter lock, and holds the writer's turn that the
delivery's records wait for: written during delivery, the rounds made SQLite's tick slower, so
there they are all written before delivery begins (each still a transaction of its own)."""

Landed = queue.Queue[list[BatchFacts] | None]
"""Each round's batches as it commits; ``None`` once no more will come."""


def in_rounds(planned: list[PlannedBatch], claims: int) -> list[list[PlannedBatch]]:
    """The planned batches in rounds of at most ``claims`` claims (or one batch), nearest reporting
    deadline first (those without one last; ties in the plan's order)."""
    rounds: list[list[PlannedBatch]] = []
    current: list[PlannedBatch] = []
    count = 0
    for batch in sorted(planned, key=lambda p: (0, p.row["deadline_at"]) if p.row["deadline_at"] else (1,)):
        if current and count + batch.size > claims:
            rounds.append(current)
            current, count = [], 0
        current.append(batch)
        count += batch.size
    if current:
        rounds.append(current)
    return rounds


def write_round(sessions: sessionmaker[Session], planned: list[PlannedBatch]) -> list[BatchFacts] | None:
    """Write one round in a transaction of its own; its batches as written, ``None`` (nothing
    written) if another tick batched some of its claims since they were read."""
    try:
        with write_session(sessions) as session:
            return batch_facts(session, write_batches(session, planned))
    except ClaimsTaken as taken:
        log.info("export tick: %s; this tick forms no more batches", taken)
        return None


class Former:
    """Writes a tick's later rounds, handing each round's batches to :func:`in_deadline_order`
    through :attr:`landed` as it commits: in a thread of its own while the tick delivers where the
    database's work runs in its own processes (:data:`OVERLAPPED`), otherwise all of them before
    delivery begins. An error stops the rounds and is kept in :attr:`error` for the tick to raise
    once it has delivered what was formed."""

    def __init__(self, sessions: sessionmaker[Session], rounds: list[list[PlannedBatch]]) -> None:
        self.sessions = sessions
        self.rounds = rounds
        self.landed: Landed = queue.Queue()
        self.error: Exception | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if rounds and sessions.kw["bind"].dialect.name in OVERLAPPED:
            self._thread = threading.Thread(target=self._run, name="export-forming", daemon=True)

    def __enter__(self) -> Former:
        if self._thread is None:
            self._run()
        else:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Writes no round after the one under way (the tick is ending, or failed)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            for planned in self.rounds:
                if self._stopping.is_set():
                    return
                formed = write_round(self.sessions, planned)
                if formed is None:
                    return
                self.landed.put(formed)
        except Exception as exc:  # noqa: BLE001 - raised by the tick once it has delivered
            log.exception("export tick: forming a round of batches failed")
            self.error = exc
        finally:
            self.landed.put(None)


def in_deadline_order(due: list[BatchFacts], landed: Landed | None) -> Iterator[BatchFacts]:
    """The due batches, nearest reporting deadline first (those without one last, then by id), with
    each round's batches joining them as it lands; waits for the next round only when none is left."""
    waiting: list[tuple[tuple[int, datetime | int, int], int, BatchFacts]] = []

    def push(batch: BatchFacts) -> None:
        order = (0, batch.deadline_at, batch.id) if batch.deadline_at else (1, batch.id, 0)
        heapq.heappush(waiting, (order, batch.id, batch))

    for batch in due:
        push(batch)
    while landed is not None or waiting:
        while landed is not None:
            try:
                formed = landed.get(block=not waiting)
            except queue.Empty:
                break
            if formed is None:
                landed = None
            else:
                for batch in formed:
                    push(batch)
        if waiting:
            yield heapq.heappop(waiting)[2]
