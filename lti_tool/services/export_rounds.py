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
formed them, and whichever tick holds a batch's lease delivers it. A batch one of whose learners is
no longer ready is left out of its round (the next tick plans its claims again).
"""

from __future__ import annotations

import heapq
import logging
import math
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
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
    for batch in sorted(planned, key=planned_order):
        if current and count + batch.size > claims:
            rounds.append(current)
            current, count = [], 0
        current.append(batch)
        count += batch.size
    if current:
        rounds.append(current)
    return rounds


Order = tuple[int, datetime | float, float]
"""Where a batch comes in delivery: by reporting deadline, those without one last, then by id."""


def batch_order(batch: BatchFacts) -> Order:
    return (0, batch.deadline_at, batch.id) if batch.deadline_at else (1, batch.id, 0)


def planned_order(batch: PlannedBatch) -> Order:
    """As :func:`batch_order`, for a batch without an id yet: after the formed batches of its deadline."""
    deadline = batch.row["deadline_at"]
    return (0, deadline, math.inf) if deadline else (1, math.inf, 0)


def write_round(sessions: sessionmaker[Session], planned: list[PlannedBatch]) -> list[BatchFacts] | None:
    """Write one round in a transaction of its own; its batches as written, ``None`` (nothing
    written) if another tick batched some of its claims since they were read
    (:class:`~lti_tool.services.export_batching.ClaimsTaken`)."""
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
        self.upcoming = [planned_order(batches[0]) for batches in rounds]
        """Where each round's nearest batch comes, in the order the rounds land."""
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


def in_deadline_order(due: list[BatchFacts], landed: Landed | None, upcoming: Sequence[Order] = (),
                      settle: Callable[[], None] = lambda: None) -> Iterator[BatchFacts]:
    """The due batches in :func:`batch_order`, with each round's batches joining them as it lands.
    It waits for the next round when no batch is left, or when that round's nearest batch
    (``upcoming``: each round's, in the order they land) comes before every batch left; before
    waiting it calls ``settle`` (the tick records the batch it sent last)."""
    waiting: list[tuple[Order, BatchFacts]] = []
    rounds = deque(upcoming)

    def push(batch: BatchFacts) -> None:
        heapq.heappush(waiting, (batch_order(batch), batch))

    for batch in due:
        push(batch)
    while landed is not None or waiting:
        while landed is not None:
            try:
                formed = landed.get_nowait()
            except queue.Empty:
                if waiting and not (rounds and rounds[0] < waiting[0][0]):
                    break
                settle()  # nothing has landed that may go first: wait for the next round
                formed = landed.get()
            if formed is None:
                landed = None
            else:
                if rounds:
                    rounds.popleft()
                for batch in formed:
                    push(batch)
        if waiting:
            yield heapq.heappop(waiting)[1]
