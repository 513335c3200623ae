"""Group commit: what arrives while a batch runs shares the next batch; each caller gets its own result."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

import pytest

from lti_tool.services.group_commit import GroupCommit

JOIN = 10  # seconds: a safety net so a broken lock fails the test instead of hanging it


def start(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + JOIN
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.001)


def finish(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.join(JOIN)
        assert not thread.is_alive(), "a caller never got its answer"


class Gate:
    """A run_batch that records its batches and holds the first one until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.first_running = threading.Event()
        self.release = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.first_running.set()
            assert self.release.wait(JOIN)
        return [item * 10 for item in items]


def test_a_lone_caller_runs_at_once_in_a_batch_of_its_own() -> None:
    gate = Gate()
    gate.release.set()
    group = GroupCommit(gate)
    assert group.submit(4) == 40
    assert group.submit(5) == 50
    assert gate.batches == [[4], [5]]


def test_callers_arriving_while_a_batch_runs_share_the_next_batch_and_get_their_own_results() -> None:
    gate = Gate()
    group = GroupCommit(gate)
    results: dict[int, int] = {}

    def call(item: int) -> Callable[[], None]:
        return lambda: results.__setitem__(item, group.submit(item))

    first = start(call(1))
    assert gate.first_running.wait(JOIN)
    others = [start(call(item)) for item in (2, 3, 4, 5)]
    wait_until(lambda: len(group._waiting) == 4, "all four queued behind the running batch")
    gate.release.set()
    finish(first, *others)
    assert gate.batches[0] == [1]
    assert sorted(gate.batches[1]) == [2, 3, 4, 5] and len(gate.batches) == 2
    assert results == {1: 10, 2: 20, 3: 30, 4: 40, 5: 50}


def test_max_batch_bounds_a_batch() -> None:
    gate = Gate()
    group = GroupCommit(gate, max_batch=2)
    first = start(lambda: group.submit(1))
    assert gate.first_running.wait(JOIN)
    others = [start(lambda item=item: group.submit(item)) for item in (2, 3, 4, 5, 6)]  # type: ignore[misc]
    wait_until(lambda: len(group._waiting) == 5, "all five queued behind the running batch")
    gate.release.set()
    finish(first, *others)
    assert [len(batch) for batch in gate.batches] == [1, 2, 2, 1]


def test_a_failing_batch_raises_in_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    calls: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        calls.append(items)
        if 13 in items:
            raise RuntimeError("database gone")
        return items

    group = GroupCommit(run)
    with pytest.raises(RuntimeError, match="database gone"):
        group.submit(13)
    assert group.submit(7) == 7
    assert calls == [[13], [7]]


def test_a_batch_that_answers_the_wrong_number_of_results_is_an_error() -> None:
    group: GroupCommit[int, int] = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="a batch of 1 gave 0 results"):
        group.submit(1)


def test_a_batch_waits_for_a_request_announced_as_arriving() -> None:
    gate = Gate()
    gate.release.set()
    group = GroupCommit(gate, max_wait=JOIN)
    announced = threading.Event()
    go_on = threading.Event()
    results: list[int] = []

    def arriving_caller() -> None:
        with group.arriving() as arrival:
            announced.set()
            assert go_on.wait(JOIN)
            results.append(arrival.submit(2))

    late = start(arriving_caller)
    assert announced.wait(JOIN)
    early = start(lambda: results.append(group.submit(1)))
    wait_until(lambda: bool(group._waiting), "the early caller queued, its batch waiting for the announced one")
    assert gate.batches == []
    go_on.set()
    finish(early, late)
    assert [sorted(batch) for batch in gate.batches] == [[1, 2]]
    assert sorted(results) == [10, 20]


def test_an_announced_request_that_leaves_without_submitting_does_not_hold_the_batch() -> None:
    gate = Gate()
    gate.release.set()
    group = GroupCommit(gate, max_wait=JOIN)
    announced = threading.Event()
    leave = threading.Event()

    def rejected_caller() -> None:
        with group.arriving():
            announced.set()
            assert leave.wait(JOIN)  # e.g. its body was malformed: it leaves with a 400

    rejected = start(rejected_caller)
    assert announced.wait(JOIN)
    result: list[int] = []
    caller = start(lambda: result.append(group.submit(3)))
    wait_until(lambda: bool(group._waiting), "the caller queued")
    leave.set()
    finish(rejected, caller)
    assert result == [30] and gate.batches == [[3]]


class Interrupted(Exception):
    pass


def test_a_caller_interrupted_while_queued_does_not_leave_the_turn_to_nobody() -> None:
    """A queued caller interrupted (here by a signal) must not be handed the turn after it left."""
    gate = Gate()
    group = GroupCommit(gate)
    holder = start(lambda: group.submit(1))
    assert gate.first_running.wait(JOIN)

    def interrupt(*_: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(Interrupted):
            group.submit(2)  # queued behind the held batch until the signal interrupts it
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    gate.release.set()
    finish(holder)
    later: list[int] = []
    finish(start(lambda: later.append(group.submit(3))))
    assert later == [30] and gate.batches == [[1], [3]]


def test_the_next_batch_waits_for_as_many_callers_as_the_last_one_held() -> None:
    """Callers a batch answered come back soon with their next request; the next batch waits for
    them (up to ``max_wait``) rather than committing for whoever queued meanwhile alone."""
    gate = Gate()
    gate.release.set()
    group = GroupCommit(gate, max_wait=JOIN)
    results: list[int] = [group.submit(1)]
    announced = threading.Barrier(2)

    def announce_then_submit(n: int) -> None:
        with group.arriving() as arrival:
            announced.wait(JOIN)
            results.append(arrival.submit(n))

    pair = [start(lambda n=n: announce_then_submit(n)) for n in (2, 3)]  # type: ignore[misc]
    finish(*pair)
    assert gate.batches[0] == [1] and [sorted(batch) for batch in gate.batches[1:]] == [[2, 3]]

    alone = start(lambda: results.append(group.submit(4)))
    wait_until(lambda: len(group._waiting) == 1, "the next caller queued")
    time.sleep(0.05)
    assert len(gate.batches) == 2, "a batch ran for one caller while the last batch held two"
    second = start(lambda: results.append(group.submit(5)))
    finish(alone, second)
    assert sorted(gate.batches[2]) == [4, 5]
    assert sorted(results) == [10, 20, 30, 40, 50]


def test_two_groups_taking_turns_are_merged_into_one_batch() -> None:
    """Callers that queued while a batch ran took the turn at once; the callers of both batches
    come back, and the next batch waits for all of them rather than the two groups alternating."""
    gate = Gate()
    group = GroupCommit(gate, max_wait=JOIN)
    results: list[int] = []
    first = start(lambda: results.append(group.submit(1)))
    assert gate.first_running.wait(JOIN)
    queued = [start(lambda n=n: results.append(group.submit(n))) for n in (2, 3)]  # type: ignore[misc]
    wait_until(lambda: len(group._waiting) == 2, "two callers queued behind the running batch")
    gate.release.set()
    finish(first, *queued)
    assert [sorted(batch) for batch in gate.batches] == [[1], [2, 3]]

    back = [start(lambda n=n: results.append(group.submit(n))) for n in (4, 5)]  # type: ignore[misc]
    wait_until(lambda: len(group._waiting) == 2, "two of the three callers back")
    time.sleep(0.05)
    assert len(gate.batches) == 2, "a batch ran before the callers of both batches were back"
    last = start(lambda: results.append(group.submit(6)))
    finish(*back, last)
    assert sorted(gate.batches[2]) == [4, 5, 6]
    assert sorted(results) == [10, 20, 30, 40, 50, 60]


def test_the_wait_for_the_last_batch_s_number_of_callers_is_bounded() -> None:
    gate = Gate()
    group = GroupCommit(gate, max_wait=0.05)
    first = start(lambda: group.submit(1))
    assert gate.first_running.wait(JOIN)
    queued = [start(lambda n=n: group.submit(n)) for n in (2, 3)]  # type: ignore[misc]
    wait_until(lambda: len(group._waiting) == 2, "two callers queued behind the running batch")
    gate.release.set()
    finish(first, *queued)
    assert group.submit(4) == 40  # nobody else comes: it runs alone once the wait is over
    assert group.submit(5) == 50  # and a lone caller after a lone caller runs at once
    assert gate.batches[2:] == [[4], [5]]
