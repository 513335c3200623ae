"""DNS resolution within a deadline, for :mod:`lti_tool.outbound`.

``socket.getaddrinfo`` takes no timeout: a resolver that never answers (or a hostile name server
that answers slowly, which anyone registering a domain can run) would hold the calling thread past
the call's total deadline. :func:`resolve` runs the lookup in a daemon thread and waits at most the
time left; a lookup that is still running then is abandoned (it ends when the system resolver gives
up). At most :data:`MAX_PENDING` lookups run at once in a process, so hanging names cannot pile up
threads without bound: beyond that a lookup fails at once.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

MAX_PENDING = 32

_pending = threading.BoundedSemaphore(MAX_PENDING)


class ResolutionFailed(OSError):
    """The name did not resolve within the time given, or cannot resolve; the message says which."""


def resolve(host: str, port: int, *, within: float) -> list[tuple[Any, ...]]:
    """``socket.getaddrinfo(host, port, type=SOCK_STREAM)``, answered within ``within`` seconds."""
    if within <= 0:
        raise ResolutionFailed(f"no time left to resolve {host}")
    pending = _pending
    if not pending.acquire(blocking=False):
        raise ResolutionFailed(f"too many name lookups under way to resolve {host}")
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            outcome["error"] = exc
        finally:
            pending.release()
            done.set()

    threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
    if not done.wait(within):
        raise ResolutionFailed(f"{host} did not resolve within {within:.3g} s")
    if "error" in outcome:
        raise ResolutionFailed(f"cannot resolve {host}: {outcome['error']}")
    return list(outcome["infos"])
