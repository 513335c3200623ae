"""Limits on anonymous endpoints that make the tool do work for whoever asks.

:class:`Gate` lets at most ``size`` requests of one kind run at once in a worker process; one more
is answered 503 at once instead of waiting for a thread. :class:`ClientRate` lets each client
address make at most ``per_minute`` requests of one kind in any minute (sliding window); more are
answered 429 with ``Retry-After``. Both live in the app (``app.extensions``), per worker process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class Gate:
    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)

    def enter(self) -> bool:
        """Take a slot if one is free (never waits)."""
        return self._slots.acquire(blocking=False)

    def leave(self) -> None:
        self._slots.release()


class ClientRate:
    WINDOW = 60.0
    MAX_CLIENTS = 10_000
    """Beyond this many addresses tracked, the oldest are forgotten (memory stays bounded)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> float | None:
        """``None`` if ``client`` may go on, else the seconds until it may."""
        now = self.clock()
        with self._lock:
            times = self._seen.pop(client, None) or deque()
            while times and times[0] <= now - self.WINDOW:
                times.popleft()
            self._seen[client] = times  # most recent last, for the eviction below
            if len(times) >= self.per_minute:
                return max(1.0, times[0] + self.WINDOW - now)
            times.append(now)
            while len(self._seen) > self.MAX_CLIENTS:
                self._seen.pop(next(iter(self._seen)))
            return None
