"""Checking an LTI 1.3 id_token before anything is stored: signature, time, audience, claims.

pylti1p3's own chain reads the claims before it checks the signature, trusts any audience list,
allows no clock leeway and never consumes the nonce. This module is stricter, in the order the
1EdTech Security Framework (section 5.1.3) gives: only RS256 with a ``kid`` from the platform's key
set; the tool as the only audience (``azp`` equal to the client id when present); ``iat``/``exp``/
``nbf`` within ``leeway``; ``iat`` not older than ``max_age``; then the LTI claims, with pylti1p3's
message validators run as a second opinion. The nonce and the state are checked in
:mod:`lti_tool.lti.launch`, which stores them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from pylti1p3.exception import LtiException
from pylti1p3.message_validators import get_validators

from lti_tool import text
from lti_tool.lti import claims as c

ALGORITHMS = ("RS256",)

KeyLookup = Callable[[str, str], jwt.PyJWK]
"""(key_set_url, kid) -> the platform's public key; raises when the kid stays unknown."""


class LaunchRejected(Exception):
    """The launch is refused; ``str(exc)`` is safe to show to the person launching."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Unverified:
    """What the token says about where it comes from, before its signature is checked."""

    issuer: str
    client_id: str
    kid: str
    deployment_id: str | None
    """The deployment the token names (``None`` when it names none as clean text)."""


def peek(id_token: str) -> Unverified:
    """Read header, issuer and audience so the right platform key can be found."""
    if not id_token or id_token.count(".") != 2:
        raise LaunchRejected("the id_token is not a signed JWT")
    try:  # header and body read in one pass over the token
        unverified = jwt.decode_complete(id_token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise LaunchRejected("the id_token is not a readable JWT") from None
    header, body = unverified["header"], unverified["payload"]
    if header.get("alg") not in ALGORITHMS:
        raise LaunchRejected(f"the id_token must be signed with RS256, not {header.get('alg')!r}", 401)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise LaunchRejected("the id_token header has no key id (kid)", 401)
    issuer = body.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise LaunchRejected("the id_token has no issuer (iss)")
    client_id = _client_id(body)
    if not text.is_clean(issuer) or not text.is_clean(client_id):  # asked of the database next
        raise LaunchRejected("the id_token's issuer or audience holds a NUL, a lone surrogate or a control character")
    deployment_id = body.get(c.DEPLOYMENT_ID)
    # Looked up before the claims are checked: one the database cannot be asked about (PostgreSQL's
    # driver refuses a NUL) is looked up as none, and the claims' check refuses it after verifying.
    return Unverified(issuer=issuer, client_id=client_id, kid=kid,
                      deployment_id=deployment_id if isinstance(deployment_id, str) and text.is_clean(deployment_id)
                      else None)


def _client_id(body: Mapping[str, Any]) -> str:
    """The tool's client id: the only audience, which ``azp`` must repeat when present."""
    aud = body.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not audiences or not all(isinstance(a, str) for a in audiences):
        raise LaunchRejected("the id_token has no audience (aud)", 401)
    if len(set(audiences)) != 1:
        raise LaunchRejected("the id_token names audiences besides this tool", 401)
    azp = body.get("azp")
    if azp is not None and azp != audiences[0]:
        raise LaunchRejected("the id_token's authorized party (azp) is not this tool", 401)
    return str(audiences[0])


def verify(
    id_token: str, key: jwt.PyJWK, *, issuer: str, client_id: str, leeway: int, max_age: int,
    now: float | None = None,
) -> dict[str, Any]:
    """The verified claims, or :class:`LaunchRejected` naming what is wrong."""
    if key.algorithm_name not in ALGORITHMS:
        raise LaunchRejected("the platform key is not an RS256 key", 401)
    now = time.time() if now is None else now
    try:
        body: dict[str, Any] = jwt.decode(
            id_token, key.key, algorithms=list(ALGORITHMS), audience=client_id, issuer=issuer,
            leeway=leeway, options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
        )
    except jwt.ExpiredSignatureError:
        raise LaunchRejected("the id_token has expired", 401) from None
    except jwt.ImmatureSignatureError:
        raise LaunchRejected("the id_token is issued in the future", 401) from None
    except jwt.MissingRequiredClaimError as exc:
        raise LaunchRejected(f"the id_token has no {exc.claim} claim", 401) from None
    except jwt.InvalidSignatureError:
        raise LaunchRejected("the id_token signature does not verify", 401) from None
    except jwt.InvalidTokenError as exc:
        raise LaunchRejected(f"the id_token is invalid: {exc}", 401) from None
    iat = body["iat"]
    if not isinstance(iat, (int, float)) or iat > now + leeway:
        raise LaunchRejected("the id_token is issued in the future", 401)
    if now - iat > max_age + leeway:
        raise LaunchRejected("the id_token was issued too long ago", 401)
    if not isinstance(body["nonce"], str) or not body["nonce"]:
        raise LaunchRejected("the id_token has an empty nonce", 401)
    check_lti_claims(body)
    return body


def check_lti_claims(body: Mapping[str, Any]) -> None:
    """The claims an LTI 1.3 launch must carry (LTI Core 1.3 section 5.3)."""
    if body.get(c.VERSION) != "1.3.0":
        raise LaunchRejected("this is not an LTI 1.3.0 launch (version claim)")
    message_type = body.get(c.MESSAGE_TYPE)
    if not message_type:
        raise LaunchRejected("the launch has no message type")
    if message_type not in c.MESSAGE_TYPES:
        raise LaunchRejected(f"the tool does not handle {message_type!r} messages")
    deployment_id = body.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id:
        raise LaunchRejected("the launch has no deployment id")
    sub = body.get("sub")
    if not isinstance(sub, str) or not sub:
        raise LaunchRejected("the launch names no user (sub)")
    roles = body.get(c.ROLES)
    if not isinstance(roles, list):
        raise LaunchRejected("the launch has no roles claim")
    if message_type == c.RESOURCE_LINK_REQUEST:
        link = body.get(c.RESOURCE_LINK)
        if not isinstance(link, dict) or not link.get("id"):
            raise LaunchRejected("the launch has no resource link id")
    if message_type == c.DEEP_LINKING_REQUEST:
        settings = body.get(c.DEEP_LINKING_SETTINGS)
        url = settings.get("deep_link_return_url") if isinstance(settings, dict) else None
        if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http") or not urlsplit(url).netloc:
            raise LaunchRejected("the deep-linking request has no http(s) deep_link_return_url")
    context = body.get(c.CONTEXT)
    if context is not None and (not isinstance(context, dict) or not context.get("id")):
        raise LaunchRejected("the launch's context has no id")
    _pylti1p3_validators(body)


def _pylti1p3_validators(body: Mapping[str, Any]) -> None:
    matching = [v for v in get_validators() if v.can_validate(body)]  # type: ignore[no-untyped-call]
    if len(matching) != 1:
        raise LaunchRejected("the launch's message type is not recognized")
    try:
        matching[0].validate(body)
    except LtiException as exc:
        raise LaunchRejected(f"the launch is malformed: {exc}") from None
