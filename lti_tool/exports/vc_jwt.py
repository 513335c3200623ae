"""VC-JWT: a credential signed as a compact JWS, the JWT proof format of Open Badges 3.0 (§8.2).

The JOSE header is ``{"alg": "RS256", "typ": "JWT", "kid": …}``; the ``kid`` names the tool key in
the tool's JWKS (``/.well-known/jwks.json``). The payload is the credential itself with the
registered claims ``iss`` (the issuer's id), ``jti`` (the credential's id), ``nbf`` (``validFrom``)
and ``exp`` (``validUntil``, when there is one). The payload bytes are written by
:func:`~lti_tool.exports.open_badges.credential_json`, so credits stay exact decimal numbers, and
RS256 is deterministic: the same credential and key always give the same token.

Written on PyJWT (already the tool's JOSE library) rather than openbadgeslib: that library's
signer embeds the public ``jwk`` in the header instead of a ``kid`` resolvable in the tool's JWKS,
its credential model would have to be fed our AchievementSubject fields (creditsEarned,
licenseNumber) through its own classes, and the signing itself is one ``PyJWS.encode`` call.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import jwt
from jwt.api_jws import PyJWS

MEDIA_TYPE = "application/vc+jwt"
ALGORITHM = "RS256"


def _epoch(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def payload_of(credential: dict[str, Any]) -> dict[str, Any]:
    """The credential with the registered claims a JWT verifier checks."""
    issuer = credential["issuer"]
    claims: dict[str, Any] = {**credential, "iss": issuer["id"] if isinstance(issuer, dict) else issuer,
                              "jti": credential["id"], "nbf": _epoch(credential["validFrom"])}
    if credential.get("validUntil"):
        claims["exp"] = _epoch(credential["validUntil"])
    return claims


def sign(credential: dict[str, Any], private_pem: str, kid: str) -> str:
    from lti_tool.exports.open_badges import credential_json

    body = credential_json(payload_of(credential), compact=True)
    return PyJWS().encode(body, private_pem, algorithm=ALGORITHM, headers={"kid": kid, "typ": "JWT"})


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload, not yet checked: to find the key. Raises ``jwt.DecodeError``."""
    header = jwt.get_unverified_header(token)
    payload = json.loads(PyJWS().decode(token, options={"verify_signature": False}))
    if not isinstance(payload, dict):
        raise jwt.DecodeError("the payload is not a JSON object")
    return header, payload


def verified(token: str, key: Any, *, leeway: int = 60) -> dict[str, Any]:
    """The payload once the signature, ``nbf`` and ``exp`` hold; raises ``jwt.InvalidTokenError``."""
    payload = jwt.decode(token, key, algorithms=[ALGORITHM], leeway=leeway,
                         options={"require": ["iss", "jti", "nbf"], "verify_aud": False})
    return payload
