"""Every call to an LMS has a total deadline and a size cap, whatever the peer does."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from lti_tool.pull.http import HttpLimits, LmsHttp, PullError
from tests.support.loopback import serve


class Trickle(BaseHTTPRequestHandler):
    """Answers at once, then sends its body a byte every 0.1 s: never silent long enough for a read
    timeout."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass


class Big(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        body = b"[" + b"0," * 50_000 + b"0]"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_peer_that_trickles_its_answer_is_cut_at_the_deadline() -> None:
    http = LmsHttp(HttpLimits(deadline_seconds=0.5))
    with serve(Trickle) as base:
        started = time.monotonic()
        with pytest.raises(PullError, match="no complete answer within 0.5 s"):
            http.request("GET", f"{base}/api")
        assert time.monotonic() - started < 3


def test_an_answer_declared_larger_than_the_cap_is_refused_unread() -> None:
    with serve(Big) as base, pytest.raises(PullError, match="over the 1024-byte cap"):
        LmsHttp(HttpLimits(max_bytes=1024)).request("GET", f"{base}/api")


def test_an_unreachable_lms_stops_the_source() -> None:
    from tests.conftest import free_port

    with pytest.raises(PullError, match="ConnectionError") as caught:
        LmsHttp().request("GET", f"http://127.0.0.1:{free_port()}/api")
    assert caught.value.scope == "source"


def test_a_query_string_is_never_shown_in_an_error() -> None:
    from tests.conftest import free_port

    with pytest.raises(PullError) as caught:
        LmsHttp().request("GET", f"http://127.0.0.1:{free_port()}/webservice/rest/server.php?wstoken=secret")
    assert "secret" not in str(caught.value)
