"""Every HTTP call the tool makes to another system goes through :func:`request`.

Dynamic registration, JWKS fetches, the HTTPS export destination and the LMS API clients all talk
to addresses that an outsider, a platform or an administrator chose. Each call here has:

- a **total deadline** (``deadline`` seconds for connecting, sending, the headers and the whole body,
  across redirects), enforced by a watchdog that shuts the sockets down when it passes: a remote
  that trickles one byte a second cannot hold the calling thread longer than the deadline, and the
  DNS lookup is bounded by the time left too (:mod:`lti_tool.name_resolution`);
- a **response size cap** (``max_bytes``; a larger ``Content-Length`` or body is refused);
- an **address policy** (:mod:`lti_tool.address_policy`) checked after DNS resolution, on every
  connection (so on every redirect too), and the connection is made to the address that was
  checked (no second resolution a DNS rebinding could change); only ``https`` is spoken, with
  certificates verified, except to private addresses in development;
- **one generic error**: every failure (refused address, unknown host, closed or open port,
  timeout, TLS, an over-long answer) raises :class:`OutboundError` whose message is the same
  ``"the remote service could not be reached"``, so an error shown to a caller says nothing about
  what lies behind an address; the cause is in ``reason``, for the log.

API::

    from lti_tool import outbound

    answer = outbound.request("POST", url, json={...}, headers={...}, deadline=10.0,
                              max_bytes=64 * 1024)      # -> outbound.Response
    answer.status, answer.headers, answer.content, answer.json(), answer.url

Redirects (301, 302, 303, 307, 308; at most ``max_redirects``) are followed with the policy checked
again; a 303, or a 301/302 after a POST, continues as a GET without body; ``Authorization`` is not
sent to another host. Non-2xx answers are returned, not raised: callers decide what a status means.
The policy in force is the process's (``configure``, called once by ``build_runtime`` from the
settings), or the ``policy`` argument. ``check_url`` checks a URL's form and scheme where it is
configured (``sources add --jwks-url``, an https destination) without calling it. Both are
:mod:`lti_tool.address_policy`'s, re-exported here.
"""

from __future__ import annotations

import contextvars
import json as jsonlib
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3 import HTTPHeaderDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from lti_tool import name_resolution
from lti_tool.address_policy import Policy, check_url, configure, current_policy, is_global

__all__ = ["DEFAULT_MAX_BYTES", "GENERIC", "OutboundError", "Policy", "Response", "check_url", "configure",
           "current_policy", "request"]

GENERIC = "the remote service could not be reached"
REDIRECTS = {301, 302, 303, 307, 308}
DEFAULT_MAX_BYTES = 1024 * 1024


class OutboundError(Exception):
    """A remote call failed. ``str()`` is always :data:`GENERIC`; ``reason`` says why, for logs."""

    def __init__(self, reason: str, *, refused: bool = False) -> None:
        super().__init__(GENERIC)
        self.reason = reason
        self.refused = refused
        """The address policy refused the call (retrying will not help)."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    """Case-insensitive."""
    content: bytes
    url: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` if it is not (nesting too deep included)."""
        try:
            return jsonlib.loads(self.content)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


@dataclass
class _Call:
    policy: Policy
    ends_at: float
    """``time.monotonic()`` when the call's total deadline passes."""
    sockets: list[socket.socket] = field(default_factory=list)
    expired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def track(self, sock: socket.socket) -> None:
        with self.lock:
            if self.expired:
                sock.close()
                raise OutboundError("deadline passed while connecting")
            self.sockets.append(sock.dup())

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        with self.lock:
            for sock in self.sockets:
                sock.close()
            self.sockets.clear()


_call: contextvars.ContextVar[_Call] = contextvars.ContextVar("outbound_call")


def _guarded_socket(host: str, port: int, timeout: Any, source_address: Any, *,
                    plain: bool) -> socket.socket:
    """Resolve ``host``, refuse it unless every address passes the policy, connect to a checked
    address, and register the socket with the call's watchdog."""
    call = _call.get()
    try:
        infos = name_resolution.resolve(host, port, within=call.ends_at - time.monotonic())
    except name_resolution.ResolutionFailed as exc:
        raise OutboundError(str(exc)) from None
    addresses = [info for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
    resolved = [str(info[4][0]) for info in addresses]
    refused = [address for address in resolved if not call.policy.permits(address)]
    if not addresses or refused:
        raise OutboundError(f"{host} resolves to an address the policy refuses: {refused}", refused=True)
    if plain and any(is_global(address) for address in resolved):
        raise OutboundError(f"plain http to {host}, a public address", refused=True)
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            if isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            call.track(sock)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            last = exc
            sock.close()
    raise OutboundError(f"cannot connect to {host}:{port}: {last}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_socket(self._dns_host, self.port, self.timeout, self.source_address, plain=True)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_socket(self._dns_host, self.port, self.timeout, self.source_address, plain=False)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


@contextmanager
def _watchdog(call: _Call, seconds: float) -> Iterator[None]:
    timer = threading.Timer(seconds, call.expire)
    timer.daemon = True
    timer.start()
    token = _call.set(call)
    try:
        yield
    finally:
        _call.reset(token)
        timer.cancel()
        call.close()


def request(
    method: str, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None,
    data: bytes | None = None, deadline: float, max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = 3, policy: Policy | None = None,
) -> Response:
    """One call, within ``deadline`` seconds in all; see the module's docstring."""
    call = _Call(policy or current_policy(), ends_at=time.monotonic() + deadline)
    send_headers = {k.lower(): v for k, v in (headers or {}).items()}
    body = data
    if json is not None:
        body = jsonlib.dumps(json).encode()
        send_headers.setdefault("content-type", "application/json")
    start = time.monotonic()
    with _watchdog(call, deadline):
        try:
            for _ in range(max_redirects + 1):
                answer = _one_hop(call, method, url, send_headers, body, deadline, start, max_bytes)
                location = answer.headers.get("location")
                if answer.status not in REDIRECTS or not location:
                    return answer
                target = urljoin(url, location)
                if urlsplit(target).hostname != urlsplit(url).hostname:
                    send_headers.pop("authorization", None)
                if answer.status == 303 or (answer.status in (301, 302) and method != "GET"):
                    method, body = "GET", None
                    send_headers.pop("content-type", None)
                url = target
            raise OutboundError(f"more than {max_redirects} redirects")
        except OutboundError:
            raise
        except Exception as exc:  # noqa: BLE001 - every transport failure is one generic error
            if call.expired:
                raise OutboundError(f"Timeout: no complete answer within {deadline:g} s") from None
            raise OutboundError(f"{type(exc).__name__}: {exc}") from None


def _one_hop(call: _Call, method: str, url: str, headers: dict[str, str], body: bytes | None,
             deadline: float, start: float, max_bytes: int) -> Response:
    try:
        check_url(url, call.policy)
    except ValueError as exc:
        raise OutboundError(f"{url}: {exc}", refused=True) from None
    parts = urlsplit(url)
    host = parts.hostname or ""
    remaining = deadline - (time.monotonic() - start)
    if remaining <= 0:
        raise OutboundError(f"Timeout: no complete answer within {deadline:g} s")
    timeout = urllib3.Timeout(connect=remaining, read=remaining)
    pool: HTTPConnectionPool
    if parts.scheme == "https":
        pool = _HTTPSPool(host, parts.port, timeout=timeout, maxsize=1, retries=False,
                          cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
    else:
        pool = _HTTPPool(host, parts.port, timeout=timeout, maxsize=1, retries=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(method, path, body=body, headers=headers, redirect=False,
                                retries=False, preload_content=False, assert_same_host=False)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise OutboundError(f"the answer declares {declared} bytes, more than {max_bytes}")
        content = bytearray()
        for chunk in response.stream(65536):
            content += chunk
            if len(content) > max_bytes:
                raise OutboundError(f"the answer is longer than {max_bytes} bytes")
            if call.expired:
                raise OutboundError(f"Timeout: no complete answer within {deadline:g} s")
        if call.expired:
            raise OutboundError(f"Timeout: no complete answer within {deadline:g} s")
        return Response(status=response.status, headers=HTTPHeaderDict(response.headers),
                        content=bytes(content), url=url)
    finally:
        pool.close()
