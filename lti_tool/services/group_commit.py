"""Group commit: callers that arrive together share one unit of work, and each waits for its result.

A durable commit costs the same for one event as for ten (a flush to disk, a round trip, a lock;
on the machine the benchmark ran on, about a millisecond of CPU time), so concurrent request threads
hand their work to whichever of them holds the turn, which runs all that is waiting as one batch.
Nobody answers before the batch that holds their work has committed.

Like PostgreSQL's ``commit_delay`` with ``commit_siblings``, the thread whose turn it is waits a
moment (``max_wait``) for requests that have already arrived (:meth:`GroupCommit.arriving`) but are
still being parsed, so they join its batch instead of each paying for a commit of their own. It
also waits, within the same bound, for the callers it expects back: callers a batch answered come
back with their next request in about a millisecond. It expects as many as the previous batch
held; and when that batch's callers had queued while the batch before it ran (the turn passed
straight to them), the callers of both, because without the wait the two groups keep taking
turns, two commits where one would do (in the benchmark's profile a batch of four cost the
server and PostgreSQL about half as much again per event as a batch of eight). A lone caller
after a lone caller runs at once.

This is not a background thread: a batch runs in a request thread that would otherwise be waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Ticket(Generic[Item, Result]):
    __slots__ = ("item", "result", "error", "done", "lead", "wake", "after")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.result: Result | BaseException | None = None
        self.error: BaseException | None = None
        self.done = False
        self.lead = False
        """Handed the turn: its caller runs the next batch."""
        self.wake = threading.Event()
        """Set once, when the ticket is done or handed the turn: each caller is woken once."""
        self.after = 0
        """How many batches had finished when it queued."""


class Arrival(Generic[Item, Result]):
    """A caller on its way to :meth:`GroupCommit.submit`: counted until it submits or leaves."""

    def __init__(self, group: GroupCommit[Item, Result]) -> None:
        self._group = group
        self.submitted = False

    def submit(self, item: Item) -> Result:
        return self._group._submit(item, self)


class GroupCommit(Generic[Item, Result]):
    """Run ``run_batch`` over the items submitted while an earlier batch was running.

    ``run_batch`` gets a list of items and returns one result per item, in order; a result that is
    an exception is raised in that item's caller alone. If ``run_batch`` raises, every caller of that
    batch gets the exception.
    """

    def __init__(self, run_batch: Callable[[list[Item]], Sequence[Result | BaseException]], max_batch: int = 64,
                 max_wait: float = 0.002) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        """Only the caller whose turn it is waits here, for announced requests to submit."""
        self._waiting: list[_Ticket[Item, Result]] = []
        self._arriving = 0
        self._leading = False
        self._expected = 1
        """How many callers the next batch waits for (up to ``max_wait``): see the module's docstring."""
        self._last_size = 0
        self._finished = 0
        """Batches finished so far."""
        self._handed_over = False
        """The turn passed straight from one batch's caller to a caller queued meanwhile."""
        self.batch_sizes: list[int] = []
        """Sizes of the last batches run (at most 1000), for benchmarks and tests."""

    @contextmanager
    def arriving(self) -> Iterator[Arrival[Item, Result]]:
        """Announce a request that will probably submit: a batch about to run waits for it (up to
        ``max_wait``). Leaving without submitting (a rejected request) is fine."""
        arrival: Arrival[Item, Result] = Arrival(self)
        with self._lock:
            self._arriving += 1
        try:
            yield arrival
        finally:
            if not arrival.submitted:
                with self._lock:
                    self._arriving -= 1
                    self._wake_leader_if_ready()

    def submit(self, item: Item) -> Result:
        """Submit without having announced the arrival."""
        return self._submit(item, None)

    def _submit(self, item: Item, arrival: Arrival[Item, Result] | None) -> Result:
        ticket: _Ticket[Item, Result] = _Ticket(item)
        with self._lock:
            self._waiting.append(ticket)
            ticket.after = self._finished
            if arrival is not None and not arrival.submitted:
                arrival.submitted = True
                self._arriving -= 1
            if self._leading:
                self._wake_leader_if_ready()
            else:
                self._leading = ticket.lead = True
                self._handed_over = False
        try:
            if not ticket.lead:
                # Woken once: when a batch holding this ticket is done, or when handed the turn.
                ticket.wake.wait()
            if not ticket.done:
                self._lead(ticket)
        except BaseException:
            # Interrupted while waiting or leading: leave no ticket behind to be handed the turn,
            # and no turn held by nobody.
            with self._lock:
                self._release(ticket)
            raise
        if ticket.error is not None:
            raise ticket.error
        if isinstance(ticket.result, BaseException):
            raise ticket.result
        return ticket.result  # type: ignore[return-value]

    def _lead(self, own: _Ticket[Item, Result]) -> None:
        """Run batches until ``own`` is done, then hand the turn to the first caller still waiting."""
        try:
            while not own.done:
                self._run(self._take_batch())
        finally:
            with self._lock:
                self._release(own)

    def _release(self, ticket: _Ticket[Item, Result]) -> None:
        """Take ``ticket`` out of the queue and, if it holds the turn, pass the turn on (under the lock)."""
        if ticket in self._waiting:
            self._waiting.remove(ticket)
        if not ticket.lead:
            return
        ticket.lead = False
        self._handed_over = bool(self._waiting)
        if self._waiting:
            successor = self._waiting[0]
            successor.lead = True
            successor.wake.set()
        else:
            self._leading = False

    def _waits_for_more(self) -> bool:
        """The caller whose turn it is waits (under the lock, up to ``max_wait``): requests are still
        arriving, or fewer are queued than the previous batch held."""
        return (bool(self._arriving) or len(self._waiting) < self._expected) and len(self._waiting) < self._max_batch

    def _wake_leader_if_ready(self) -> None:
        """Wake a waiting leader only when its wait is over: each wake-up is a thread switch (in a
        profile of the server under 8 clients, waking threads was about a sixth of its Python time)."""
        if not self._waits_for_more():
            self._arrived.notify()

    def _take_batch(self) -> list[_Ticket[Item, Result]]:
        deadline = time.monotonic() + self._max_wait
        with self._lock:
            while self._waits_for_more():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._arrived.wait(remaining)
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            self._expected = len(batch)
            if self._handed_over:
                # The previous batch's callers are on their way back, but for those already here.
                back = sum(1 for ticket in batch if ticket.after == self._finished)
                self._expected = min(self._max_batch, len(batch) + max(0, self._last_size - back))
            self._last_size = len(batch)
        return batch

    def _run(self, batch: list[_Ticket[Item, Result]]) -> None:
        if len(self.batch_sizes) >= 1000:
            del self.batch_sizes[:500]
        self.batch_sizes.append(len(batch))
        results: Sequence[Result | BaseException] = []
        error: BaseException | None = None
        try:
            results = self._run_batch([ticket.item for ticket in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} gave {len(results)} results")
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
            error = exc
        with self._lock:
            self._finished += 1
        for index, ticket in enumerate(batch):
            if error is None:
                ticket.result = results[index]
            else:
                ticket.error = error
            ticket.done = True
            ticket.wake.set()
