"""The 1EdTech LTI client-side postMessage storage (``lti.put_data`` / ``lti.get_data``): the login's
state bound to the browser when the state cookie cannot be (an LMS iframe that blocks third-party
cookies).

At a login whose platform names an ``lti_storage_target`` frame, the tool's page puts a proof under
:func:`key` in the platform's storage, in that browser. A launch that comes back without the state
cookie is answered by a page that reads the proof back (``lti.get_data``) and posts it to the tool
from the tool's own origin; only a proof equal to :func:`proof` of the launch's state is accepted.
The proof is an HMAC of the state under a secret of the tool's, so the database stores nothing more.

Why an attacker's cross-site post fails: the attacker holds an id_token and state of their own login
(and its proof, which their own browser was shown), but the proof must be posted from a page of the
tool's origin (its ``Origin`` header is checked), and the tool's page posts only what the platform's
storage frame, in the victim's browser, answered (its message origin is checked): that storage holds
nothing for the attacker's state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from lti_tool.lti.launch_platform import LaunchPlatform
from lti_tool.lti.platforms import CANVAS_CLOUD

SECRET_NAME = "lti_storage"
"""The name of the tool's secret (``app_secrets``) the proofs are made with."""

TARGET_LIMIT = 100
"""The longest ``lti_storage_target`` frame name the tool accepts (a login parameter)."""


def key(state: str) -> str:
    """The key the proof is stored under in the platform's storage (partitioned per tool)."""
    return f"lti_tool_state_{state}"


def proof(secret: str, state: str) -> str:
    digest = hmac.new(secret.encode(), f"lti-storage:{state}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def proves(secret: str, state: str, value: str) -> bool:
    """``value`` (what the platform's storage answered) is the proof of ``state``."""
    return hmac.compare_digest(proof(secret, state).encode(), value.encode())


def message_origins(platform: LaunchPlatform) -> list[str]:
    """The origins the platform's storage frame may answer from: its authorization URL's and its
    issuer's; for Canvas Cloud, whose frames live on the school's host, ``https://*.instructure.com``
    (a pattern the page matches by suffix, and sends to with ``*`` as Canvas documents)."""
    origins: list[str] = []
    for url in (platform.auth_login_url, platform.issuer):
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme in ("http", "https") and parts.netloc and origin not in origins:
            origins.append(origin)
    host = urlsplit(platform.issuer).hostname or ""
    if host == CANVAS_CLOUD or host.endswith("." + CANVAS_CLOUD):
        origins.append(f"https://*.{CANVAS_CLOUD}")
    return origins


@dataclass(frozen=True)
class StoragePut:
    """What the login page stores in the platform's storage before going on to ``next_url``."""

    target: str
    key: str
    value: str
    origins: list[str]
    next_url: str
