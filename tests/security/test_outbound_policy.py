"""lti_tool.outbound against hostile remotes: total deadline, size cap, address policy after DNS
resolution and on redirects, one generic error."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from lti_tool import name_resolution, outbound
from tests.security.peers import hostile, json_answer, trickle

DEV = outbound.Policy(allow_private=True)
PUBLIC = outbound.Policy()


def test_a_trickling_answer_is_cut_at_the_total_deadline() -> None:
    with hostile(trickle) as (base, _):
        started = time.monotonic()
        with pytest.raises(outbound.OutboundError) as failed:
            outbound.request("GET", f"{base}/x", deadline=1.0, policy=DEV)
        assert time.monotonic() - started < 2.0
    assert "Timeout" in failed.value.reason


def test_an_answer_over_the_size_cap_is_refused() -> None:
    with hostile(json_answer({"pad": "x" * 5000})) as (base, _), pytest.raises(outbound.OutboundError) as failed:
        outbound.request("GET", f"{base}/x", deadline=2, max_bytes=1000, policy=DEV)
    assert "more than 1000" in failed.value.reason


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "100.64.0.1",
                                     "::1", "fe80::1", "fc00::1", "224.0.0.1", "0.0.0.0", "::ffff:127.0.0.1"])
def test_non_public_addresses_are_refused_by_default(address: str) -> None:
    assert not PUBLIC.permits(address)


@pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "224.0.0.1", "0.0.0.0"])
def test_link_local_multicast_and_unspecified_are_refused_even_in_development(address: str) -> None:
    assert not DEV.permits(address)


def test_public_addresses_are_permitted() -> None:
    assert PUBLIC.permits("93.184.216.34") and PUBLIC.permits("2606:2800:220:1:248:1893:25c8:1946")


def test_a_name_resolving_to_loopback_is_refused_before_connecting(public_dns: dict[str, str]) -> None:
    public_dns["platform.example"] = "127.0.0.1"
    with hostile(json_answer({})) as (base, peer):
        port = base.rsplit(":", 1)[1]
        with pytest.raises(outbound.OutboundError) as failed:
            outbound.request("GET", f"https://platform.example:{port}/x", deadline=2, policy=PUBLIC)
    assert failed.value.refused and peer.requests == []
    assert str(failed.value) == outbound.GENERIC


def test_plain_http_is_refused_by_default() -> None:
    with hostile(json_answer({})) as (base, peer), pytest.raises(outbound.OutboundError) as failed:
        outbound.request("GET", f"{base}/x", deadline=2, policy=PUBLIC)
    assert failed.value.refused and peer.requests == []


def test_a_redirect_to_a_refused_address_is_not_followed(public_dns: dict[str, str]) -> None:
    public_dns["metadata.example"] = "169.254.169.254"

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", "http://metadata.example/latest/meta-data/")
        handler.send_header("content-length", "0")
        handler.end_headers()

    # A policy standing in for "127.0.0.1 is public": the first hop is allowed, the second is
    # checked again after its resolution and refused.
    class LoopbackOnly(outbound.Policy):
        def permits(self, address: str) -> bool:
            return address == "127.0.0.1"

    with hostile(redirect) as (base, peer), pytest.raises(outbound.OutboundError) as failed:
        outbound.request("GET", f"{base}/start", deadline=2, policy=LoopbackOnly(allow_private=True))
    assert failed.value.refused and len(peer.requests) == 1


def test_closed_and_open_ports_fail_with_the_same_message() -> None:
    with hostile(json_answer({}, status=404)) as (base, _):
        errors = []
        for url in (f"{base}/x", "https://127.0.0.1:1/x"):
            with pytest.raises(outbound.OutboundError) as failed:
                outbound.request("GET", url, deadline=2, policy=PUBLIC)
            errors.append(str(failed.value))
    assert errors == [outbound.GENERIC, outbound.GENERIC]


def test_authorization_is_not_sent_to_another_host() -> None:
    with hostile(json_answer({"ok": True})) as (target, peer):
        def redirect(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(307)
            handler.send_header("Location", target.replace("127.0.0.1", "localhost") + "/next")
            handler.send_header("content-length", "0")
            handler.end_headers()

        with hostile(redirect) as (base, _):
            answer = outbound.request("GET", f"{base}/x", headers={"Authorization": "Bearer t"},
                                      deadline=2, policy=DEV)
    assert answer.status == 200 and "authorization" not in peer.requests[0][2]


def test_plain_http_to_a_public_name_is_refused_even_in_development() -> None:
    with pytest.raises(ValueError, match="must be https"):
        outbound.check_url("http://api.body.example/claims", DEV)
    outbound.check_url("http://127.0.0.1:9/claims", DEV)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://x.example/", "ftp://x.example/",
                                 "https://169.254.169.254/latest", "https://[::1]/", "https://localhost/",
                                 "https:///nohost", "https://x.example:99999/"])
def test_urls_that_can_only_be_hostile_are_refused_where_they_are_configured(url: str) -> None:
    with pytest.raises(ValueError):
        outbound.check_url(url, PUBLIC)


@pytest.fixture
def hanging_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A resolver that never answers for one name (as a hostile name server can make it)."""
    name, release = "hangs.example", threading.Event()
    real = socket.getaddrinfo

    def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            release.wait(30)
            raise socket.gaierror("released")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    yield name
    release.set()


def test_a_name_that_never_resolves_is_cut_at_the_total_deadline(hanging_dns: str) -> None:
    started = time.monotonic()
    with pytest.raises(outbound.OutboundError) as failed:
        outbound.request("GET", f"https://{hanging_dns}/.well-known/openid-configuration", deadline=0.5)
    assert time.monotonic() - started < 2.0
    assert "did not resolve" in failed.value.reason and str(failed.value) == outbound.GENERIC


def test_lookups_hanging_at_once_are_bounded(hanging_dns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(name_resolution, "_pending", threading.BoundedSemaphore(2))
    for _ in range(2):
        with pytest.raises(outbound.OutboundError):
            outbound.request("GET", f"https://{hanging_dns}/", deadline=0.2)
    with pytest.raises(outbound.OutboundError) as failed:
        outbound.request("GET", f"https://{hanging_dns}/", deadline=0.2)
    assert "too many name lookups" in failed.value.reason
