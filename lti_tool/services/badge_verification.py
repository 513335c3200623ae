"""Verifying a signed Open Badges 3.0 credential as an outside verifier would, over HTTP.

The checks, each reported: the signature (RS256, by the ``kid`` in the JWKS the caller trusts), the
issuer (the credential's issuer is the one whose JWKS that is: same origin), the dates (``validFrom``
has come, ``validUntil`` has not passed) and the status (its bit in the issuer's signed Bitstring
Status List, fetched from the issuer's origin, is not set). Anything that cannot be checked refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jwt

from lti_tool import outbound
from lti_tool.exports import status_list, vc_jwt
from lti_tool.jwks import JwksCache, JwksUnavailable, UnknownKey

Fetch = Callable[[str], str]


class Refused(Exception):
    def __init__(self, check: str, reason: str):
        super().__init__(reason)
        self.check = check


@dataclass
class Verdict:
    verified: bool
    checks: dict[str, str] = field(default_factory=dict)
    """Check -> ``ok`` or why it failed (signature, issuer, dates, status)."""
    credential: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        credential = self.credential or {}
        subject = credential.get("credentialSubject")
        issuer = credential.get("issuer")
        return {"verified": self.verified, "checks": self.checks,
                "id": credential.get("id"), "name": credential.get("name"),
                "issuer": issuer.get("id") if isinstance(issuer, dict) else issuer,
                "creditsEarned": subject.get("creditsEarned") if isinstance(subject, dict) else None,
                "validFrom": credential.get("validFrom")}


def http_text(timeout: float = 10.0) -> Fetch:
    """Fetch a status list through :mod:`lti_tool.outbound` (a total deadline, a size cap and the
    address policy, as every remote call of the tool)."""

    def fetch(url: str) -> str:
        try:
            response = outbound.request("GET", url, deadline=timeout)
        except outbound.OutboundError as exc:
            raise Refused("status", f"fetching {url}: {exc.reason}") from None
        if not response.ok:
            raise Refused("status", f"fetching {url}: HTTP {response.status}")
        return response.text

    return fetch


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _signed_payload(token: str, jwks_url: str, keys: JwksCache, check: str) -> dict[str, Any]:
    try:
        header, _ = vc_jwt.unverified(token)
    except (jwt.DecodeError, ValueError) as exc:
        raise Refused(check, f"not a compact JWS: {exc}") from None
    if header.get("alg") != vc_jwt.ALGORITHM or not isinstance(header.get("kid"), str):
        raise Refused(check, f"the header must name alg {vc_jwt.ALGORITHM} and a kid")
    try:
        key = keys.signing_key(jwks_url, header["kid"])
        return vc_jwt.verified(token, key.key)
    except UnknownKey:
        raise Refused(check, f"no key {header['kid']!r} in {jwks_url}") from None
    except JwksUnavailable as exc:
        raise Refused(check, str(exc)) from None
    except jwt.ImmatureSignatureError:
        raise Refused("dates", "not valid yet (nbf)") from None
    except jwt.ExpiredSignatureError:
        raise Refused("dates", "expired (exp)") from None
    except jwt.InvalidTokenError as exc:
        raise Refused(check, f"{type(exc).__name__}: {exc}") from None


def _dates(payload: dict[str, Any], now: datetime) -> None:
    try:
        valid_from = datetime.fromisoformat(str(payload["validFrom"]).replace("Z", "+00:00"))
        valid_until = payload.get("validUntil")
        until = datetime.fromisoformat(str(valid_until).replace("Z", "+00:00")) if valid_until else None
    except (KeyError, ValueError):
        raise Refused("dates", "validFrom is missing or not a date-time") from None
    if valid_from.tzinfo is None or (until is not None and until.tzinfo is None):
        raise Refused("dates", "validFrom and validUntil must name their time zone (a VC dateTimeStamp)")
    if valid_from > now:
        raise Refused("dates", f"not valid before {valid_from.isoformat()}")
    if until is not None and until <= now:
        raise Refused("dates", f"expired on {until.isoformat()}")


def _status(payload: dict[str, Any], issuer_id: str, jwks_url: str, keys: JwksCache, fetch: Fetch) -> None:
    entry = payload.get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        raise Refused("status", "no BitstringStatusListEntry: a revocation could not be seen")
    list_url = str(entry.get("statusListCredential", ""))
    if _origin(list_url) != _origin(issuer_id):
        raise Refused("status", f"the status list {list_url!r} is not at the issuer's origin")
    listed = _signed_payload(fetch(list_url).strip(), jwks_url, keys, "status")
    subject = listed.get("credentialSubject") or {}
    if listed.get("id") != list_url or subject.get("statusPurpose") != entry.get("statusPurpose"):
        raise Refused("status", "the status list is not the one the credential names")
    try:
        revoked = status_list.is_set(str(subject.get("encodedList", "")), int(entry.get("statusListIndex", -1)))
    except (status_list.StatusListError, ValueError) as exc:
        raise Refused("status", str(exc)) from None
    if revoked:
        raise Refused("status", "revoked by its issuer")


def verify_credential(token: str, *, jwks_url: str, keys: JwksCache, now: datetime,
                      fetch: Fetch | None = None) -> Verdict:
    verdict = Verdict(verified=False)
    fetch = fetch or http_text()
    step = "signature"
    try:
        payload = _signed_payload(token, jwks_url, keys, "signature")
        verdict.credential, verdict.checks["signature"] = payload, "ok"
        step = "issuer"
        issuer = payload.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if not isinstance(issuer_id, str) or payload.get("iss") != issuer_id:
            raise Refused("issuer", "iss is not the credential's issuer")
        if _origin(issuer_id) != _origin(jwks_url):
            raise Refused("issuer", f"the issuer {issuer_id} is not the owner of {jwks_url}")
        verdict.checks["issuer"] = "ok"
        step = "dates"
        _dates(payload, now)
        verdict.checks["dates"] = "ok"
        step = "status"
        _status(payload, issuer_id, jwks_url, keys, fetch)
        verdict.checks["status"] = "ok"
    except Refused as exc:
        verdict.checks[exc.check or step] = str(exc)
        return verdict
    verdict.verified = True
    return verdict
