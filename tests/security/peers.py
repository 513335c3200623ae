"""Hostile peers on 127.0.0.1 for the abuse tests: a server that trickles its answer, one that
answers too much, one that redirects, each counting the requests it got."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from lti_tool import outbound
from tests.support.loopback import serve


class Peer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []


@contextmanager
def hostile(answer: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[tuple[str, Peer]]:
    """Serve ``answer`` for every GET and POST; yield the base URL and the request log."""
    peer = Peer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def handle_one(self) -> None:
            peer.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            try:
                answer(self)
            except OSError:
                pass

        do_GET = do_POST = handle_one

    with serve(Handler) as base:
        yield base, peer


def trickle(handler: BaseHTTPRequestHandler) -> None:
    """One byte every 0.2 s, for a minute: never a complete answer."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(300):
        handler.wfile.write(b"X")
        handler.wfile.flush()
        time.sleep(0.2)


def json_answer(body: Any, status: int = 200) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    return answer


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A DNS stand-in: names added to the returned dict resolve to the given address."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return real(names[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return names


@pytest.fixture
def default_policy() -> Iterator[outbound.Policy]:
    """The production policy (no private addresses, https only) for one test."""
    before = outbound.current_policy()
    outbound.configure(outbound.Policy())
    try:
        yield outbound.current_policy()
    finally:
        outbound.configure(before)
