"""The OIDC login's state as a signed, expiring value, so that a login stores nothing.

A login used to store its (state, nonce) in a row that the launch deleted: a durable write in each of
the two requests of a launch, which on SQLite take turns. Now the state is

    <random>.<platform id>.<expiry, Unix seconds>.<MAC>

with the MAC an HMAC-SHA256, under a secret of the tool's (:data:`SECRET_NAME`, kept in the database
so every worker shares it), of the rest; and the login's nonce is an HMAC of the whole state
(:func:`nonce_of`). The launch checks the MAC, the expiry and the platform (:func:`check`), then that
the id_token carries the state's nonce.

One use only, as before: each state has exactly one nonce, and the launch consumes that nonce in its
write transaction (``lti_used_nonces``, whose unique key refuses a second use on any worker), keeping
it at least until the state has expired: until the expiry the state itself carries, not one the
current ``state_lifetime_seconds`` would give it (a setting lowered since the login would otherwise
free the nonce while its state can still be used; :func:`lti_tool.lti.launch_record.nonce_row`). A replayed
state therefore finds its nonce used; a state of another login names another nonce; a forged or
altered state fails the MAC; an old one has expired. The browser binding (state cookie, or the
platform's storage) is checked as before, against the same value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

SECRET_NAME = "lti_login_state"
"""The name of the tool's secret (``app_secrets``) states and nonces are made with."""


class BadState(Exception):
    """The state is not one the tool issued, or no longer usable; ``str(exc)`` says which."""


@dataclass(frozen=True)
class Login:
    state: str
    nonce: str


def _mac(secret: str, purpose: str, text: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def nonce_of(secret: str, state: str) -> str:
    """The nonce of the login that issued ``state``."""
    return _mac(secret, "lti-login-nonce", state)


def issue(secret: str, platform_id: int, lifetime_seconds: int, now: float | None = None) -> Login:
    """A new login's state and nonce for ``platform_id``, usable for ``lifetime_seconds``."""
    expires = int(now if now is not None else time.time()) + lifetime_seconds
    body = f"{secrets.token_urlsafe(16)}.{platform_id}.{expires}"
    state = f"{body}.{_mac(secret, 'lti-login-state', body)}"
    return Login(state=state, nonce=nonce_of(secret, state))


def check(secret: str, state: str, platform_id: int, nonce: str, now: float | None = None) -> int:
    """``state`` is one this tool issued for ``platform_id``, has not expired, and ``nonce`` is its
    nonce: its expiry (Unix seconds), until which its used nonce must be kept; raises
    :class:`BadState` otherwise."""
    body, _, mac = state.rpartition(".")
    parts = body.split(".")
    if len(parts) != 3 or not hmac.compare_digest(mac.encode(), _mac(secret, "lti-login-state", body).encode()):
        raise BadState("the login for this launch is unknown (state)")
    _, issued_for, expires = parts
    if int(expires) < (now if now is not None else time.time()):
        raise BadState("the login for this launch has expired (state); open the tool again from your course")
    if int(issued_for) != platform_id or not hmac.compare_digest(nonce_of(secret, state).encode(), nonce.encode()):
        raise BadState("the launch does not belong to its login (state and nonce differ)")
    return int(expires)
