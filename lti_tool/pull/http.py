"""The one way the LMS clients call out: through :mod:`lti_tool.outbound`, with the reconcile
settings' total deadline and size cap, and the tool's address policy (checked after DNS resolution).

Calls that share a token take turns (one request at a time per token, as Canvas asks of API users).
An outbound failure becomes a :class:`PullError` that stops the source for this run; the error
never shows a query string (Moodle's token may travel in one).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from lti_tool import outbound


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

    def request(self, method: str, url: str, *, token: str | None = None, headers: Mapping[str, str] | None = None,
                params: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
                auth: tuple[str, str] | None = None) -> Answer:
        """One call; ``token`` (when given) is the credential whose calls take turns. ``data`` is sent
        form-encoded, ``auth`` as HTTP Basic; redirects are not followed."""
        limits = self.limits
        send = dict(headers or {})
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        body = None
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            send.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth is not None:
            send["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        with _turn(token):
            try:
                response = outbound.request(method, url, headers=send, data=body, deadline=limits.deadline_seconds,
                                            max_bytes=limits.max_bytes, max_redirects=0)
            except outbound.OutboundError as exc:
                raise PullError(f"{_where(url)}: {_said(exc.reason, limits)}", scope="source") from None
        return Answer(response.status, response.headers, response.content, _links(response.headers.get("Link", "")))


def _said(reason: str, limits: HttpLimits) -> str:
    """The outbound failure in the words of an LMS report, without the URL it may name."""
    if reason.startswith("Timeout"):
        return f"timed out: no complete answer within {limits.deadline_seconds:g} s"
    if "bytes" in reason and ("more than" in reason or "longer than" in reason):
        return f"answer over the {limits.max_bytes}-byte cap"
    if reason.startswith("cannot connect"):
        return "ConnectionError: the LMS did not accept the connection"
    return reason.split("?", 1)[0]


_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')


def _links(header: str) -> dict[str, Any]:
    """RFC 8288 ``Link`` header by relation, as Canvas pages its lists: ``{"next": {"url": …}}``."""
    return {rel: {"url": target, "rel": rel} for target, rel in _LINK.findall(header)}


def _where(url: str) -> str:
    """The URL without its query (which may carry a token, as Moodle's does)."""
    return url.split("?", 1)[0]
