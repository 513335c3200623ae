"""Which addresses the tool may call: the address policy :mod:`lti_tool.outbound` applies after DNS
resolution on every connection, and :func:`check_url` applies where a URL is configured.

Loopback, private, shared, reserved, multicast, link-local and unspecified addresses are refused
unless ``allow_private`` is set (the development setting ``[outbound] allow_private_addresses``);
link-local (the cloud metadata service), multicast and unspecified stay refused even then. The
process's policy is set once by ``build_runtime`` (:func:`configure`).
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address, an IPv4-mapped IPv6 address as the IPv4 one it maps (a scope id dropped)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_global(address: str) -> bool:
    return _ip(address).is_global


@dataclass(frozen=True)
class Policy:
    """Which addresses the tool may call. ``allow_private``: development and tests only."""

    allow_private: bool = False

    def permits(self, address: str) -> bool:
        ip = _ip(address)
        if ip.is_multicast or ip.is_unspecified or ip.is_link_local:
            return False  # link-local holds the cloud metadata service: never, not even in development
        return self.allow_private or ip.is_global


_policy = Policy()
_lock = threading.Lock()


def configure(policy: Policy) -> None:
    """Set the process's policy (``build_runtime`` does, from ``[outbound]``)."""
    global _policy
    with _lock:
        _policy = policy


def current_policy() -> Policy:
    return _policy


def _is_private(host: str) -> bool:
    if host.rstrip(".").lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def check_url(url: str, policy: Policy | None = None) -> None:
    """Refuse a URL whose form or scheme the policy does not allow, or whose host is a literal
    address it refuses (names are checked when called, after resolution). Raises ``ValueError``.

    Plain ``http`` is allowed only with ``allow_private``, and only to a private host (a literal
    private address or ``localhost``); its connection is refused unless every resolved address is
    private."""
    policy = policy or _policy
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if not host or parts.scheme not in ("https", "http"):
        raise ValueError("must be https://")
    if parts.scheme == "http" and not (policy.allow_private and _is_private(host)):
        raise ValueError("must be https:// (plain http only to a private address, in development)")
    if _is_private(host) and not policy.allow_private:
        raise ValueError("names an address that is not allowed")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return
    if not policy.permits(str(literal)):
        raise ValueError("names an address that is not allowed")
