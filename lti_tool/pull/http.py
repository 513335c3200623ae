"""The one way the LMS clients call out: a total deadline and a size cap on every call.

Every call has a connect and read timeout (``requests``) and a total deadline checked while the body
streams in, so a peer that trickles bytes cannot hold a tick; a body past the cap is refused. Calls
that share a token take turns (one request at a time per token, as Canvas asks of API users).
This small surface is the seam to route through a shared outbound module.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests


class PullError(Exception):
    """The LMS did not answer usably (down, refused, malformed): reported, retried on the next tick.

    ``scope`` says what it stops: ``"course"`` (the next course is tried) or ``"source"`` (nothing
    more is asked of this LMS in this run: bad credentials, unreachable host).
    """

    def __init__(self, message: str, *, scope: str = "course") -> None:
        super().__init__(message)
        self.scope = scope


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Any
    body: bytes
    links: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise PullError(f"the answer is not JSON (HTTP {self.status})") from None


@dataclass(frozen=True)
class HttpLimits:
    timeout_seconds: float = 10.0
    """Connect timeout, and the longest silence while reading."""
    deadline_seconds: float = 30.0
    """The longest a whole call may take, body included."""
    max_bytes: int = 10 * 1024 * 1024


_turns: dict[str, threading.Lock] = {}
_turns_lock = threading.Lock()


def _turn(token: str | None) -> threading.Lock:
    key = hashlib.sha256((token or "").encode()).hexdigest()
    with _turns_lock:
        return _turns.setdefault(key, threading.Lock())


class LmsHttp:
    def __init__(self, limits: HttpLimits | None = None) -> None:
        self.limits = limits or HttpLimits()
        self._session = requests.Session()

    def request(self, method: str, url: str, *, token: str | None = None, **kwargs: Any) -> Answer:
        """One call; ``token`` (when given) is the credential whose calls take turns."""
        limits = self.limits
        with _turn(token):
            started = time.monotonic()
            try:
                with self._session.request(method, url, stream=True, allow_redirects=False,
                                           timeout=(limits.timeout_seconds, limits.timeout_seconds),
                                           **kwargs) as response:
                    declared = response.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                        raise PullError(f"{_where(url)}: answer of {declared} bytes is over the "
                                        f"{limits.max_bytes}-byte cap")
                    chunks: list[bytes] = []
                    size = 0
                    while chunk := response.raw.read1(65536, decode_content=True):
                        # read1: whatever has arrived, so a peer trickling bytes meets the deadline
                        size += len(chunk)
                        if size > limits.max_bytes:
                            raise PullError(f"{_where(url)}: answer over the {limits.max_bytes}-byte cap")
                        if time.monotonic() - started > limits.deadline_seconds:
                            raise PullError(f"{_where(url)}: no complete answer within "
                                            f"{limits.deadline_seconds:g} s", scope="source")
                        chunks.append(chunk)
                    return Answer(response.status_code, response.headers, b"".join(chunks), response.links)
            except requests.Timeout:
                raise PullError(f"{_where(url)}: timed out after {limits.timeout_seconds:g} s",
                                scope="source") from None
            except requests.RequestException as exc:
                raise PullError(f"{_where(url)}: {type(exc).__name__}", scope="source") from None


def _where(url: str) -> str:
    """The URL without its query (which may carry a token, as Moodle's does)."""
    return url.split("?", 1)[0]
