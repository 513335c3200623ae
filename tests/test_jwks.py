"""The JWKS cache: one fetch for many look-ups, a rate-limited re-fetch, and a timeout."""

from __future__ import annotations

import time

import pytest

from lti_tool.jwks import JwksCache, JwksUnavailable, UnknownKey
from tests.support.keys import SigningKey, jwks_server


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_fetched_once_for_many_lookups() -> None:
    key = SigningKey("k1")
    with jwks_server(key) as server:
        cache = JwksCache(timeout=2)
        for _ in range(5):
            assert cache.signing_key(server.url, "k1").key_id == "k1"
        assert server.requests == 1


def test_unknown_kid_refetches_at_most_once_per_interval() -> None:
    clock = FakeClock()
    with jwks_server(SigningKey("k1")) as server:
        cache = JwksCache(timeout=2, min_refetch_interval=60, clock=clock)
        cache.signing_key(server.url, "k1")
        clock.now += 1
        for forged in ("x1", "x2", "x3"):
            with pytest.raises(UnknownKey):
                cache.signing_key(server.url, forged)
        assert server.requests == 1  # still inside the interval: no re-fetch at all
        clock.now += 60
        with pytest.raises(UnknownKey):
            cache.signing_key(server.url, "x4")
        assert server.requests == 2


def test_rotated_key_is_found_by_a_refetch() -> None:
    clock = FakeClock()
    old, new = SigningKey("old"), SigningKey("new")
    with jwks_server(old) as server:
        cache = JwksCache(timeout=2, min_refetch_interval=60, clock=clock)
        cache.signing_key(server.url, "old")
        server.keys = [old, new]
        clock.now += 61
        assert cache.signing_key(server.url, "new").key_id == "new"


def test_a_hanging_jwks_server_times_out() -> None:
    with jwks_server(SigningKey("k1")) as server:
        server.delay = 3
        cache = JwksCache(timeout=0.5)
        started = time.monotonic()
        with pytest.raises(JwksUnavailable):
            cache.signing_key(server.url, "k1")
        assert time.monotonic() - started < 2.5


def test_a_closed_port_is_unavailable_not_a_crash() -> None:
    with jwks_server(SigningKey("k1")) as server:
        url = server.url
    with pytest.raises(JwksUnavailable):
        JwksCache(timeout=1).signing_key(url, "k1")
