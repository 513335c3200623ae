"""JWKS fetching with a cache and a rate-limited re-fetch.

Used wherever the tool verifies a platform's RS256 signature (Canvas signed Live Events, LTI
launches). Keys are cached per JWKS URL. An unknown ``kid`` (a key rotation) triggers a re-fetch, but
at most once per ``min_refetch_interval`` per URL, so a flood of forged ``kid`` values costs the
platform one request a minute. Every fetch goes through :mod:`lti_tool.outbound` (a total deadline,
a size cap, the address policy).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt

from lti_tool import outbound

MAX_BYTES = 256 * 1024
"""A JWKS larger than this is refused (a platform publishes a few keys, a few kB)."""


class UnknownKey(Exception):
    """No key with this ``kid`` is published, even after a re-fetch."""


class JwksUnavailable(Exception):
    """The JWKS could not be fetched or read (network, timeout, not a JWKS)."""


@dataclass
class _Entry:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None


class JwksCache:
    def __init__(self, timeout: float = 5.0, min_refetch_interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.min_refetch_interval = min_refetch_interval
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def signing_key(self, jwks_url: str, kid: str) -> jwt.PyJWK:
        with self._lock:
            entry = self._entries.setdefault(jwks_url, _Entry())
            if kid in entry.keys:
                return entry.keys[kid]
            now = self.clock()
            if entry.fetched_at is None or now - entry.fetched_at >= self.min_refetch_interval:
                entry.fetched_at = now
                entry.keys = self._fetch(jwks_url)
            if kid in entry.keys:
                return entry.keys[kid]
        raise UnknownKey(f"no key with kid {kid!r} in {jwks_url}")

    def _fetch(self, jwks_url: str) -> dict[str, jwt.PyJWK]:
        try:
            response = outbound.request("GET", jwks_url, deadline=self.timeout, max_bytes=MAX_BYTES)
        except outbound.OutboundError as exc:
            raise JwksUnavailable(f"fetching {jwks_url}: {exc.reason}") from None
        if not response.ok:
            raise JwksUnavailable(f"fetching {jwks_url}: HTTP {response.status}")
        try:
            data = response.json()
        except ValueError:
            raise JwksUnavailable(f"{jwks_url} did not return JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise JwksUnavailable(f"{jwks_url} is not a JWKS")
        keys: dict[str, jwt.PyJWK] = {}
        for item in data["keys"]:
            if not isinstance(item, dict) or "kid" not in item:
                continue
            try:
                keys[str(item["kid"])] = jwt.PyJWK(item)
            except (jwt.PyJWKError, jwt.InvalidKeyError):
                continue  # a key of a type we cannot use is skipped, not fatal
        return keys
