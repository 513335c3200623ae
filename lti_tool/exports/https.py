"""The HTTPS destination: the export POSTed as JSON, signed the Standard Webhooks way.

Headers: ``webhook-id`` (the batch key, also sent as ``Idempotency-Key``), ``webhook-timestamp``
(Unix seconds) and ``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(secret, "{id}.{ts}.{body}")).
A secret given as ``whsec_<base64>`` is decoded as the spec says; any other string is used as bytes.

Answers: 2xx accepted (the receipt keeps status and body); 408, 425, 429 and 5xx, timeouts and
connection errors are retried (``Retry-After`` honoured); any other 4xx is permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from email.utils import parsedate_to_datetime
from typing import Any

from lti_tool import outbound
from lti_tool.exports.base import DeliveryError, Destination, Export

RETRIED = {408, 425, 429}
RECEIPT_BYTES = 64 * 1024
"""A receiver's answer larger than this is refused (and the delivery retried)."""
OPTIONS = {"url", "secret_env", "secret_file", "timeout_seconds"}


def secret_bytes(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks ``webhook-signature`` value for one message."""
    mac = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def verify(secret: str, headers: Any, body: bytes, tolerance: int = 300) -> bool:
    """Check a signed request as a receiver does (used by tests and by receivers in Python)."""
    msg_id, ts = headers.get("webhook-id"), headers.get("webhook-timestamp")
    if not msg_id or not ts or abs(time.time() - int(ts)) > tolerance:
        return False
    expected = sign(secret, msg_id, int(ts), body)
    return any(hmac.compare_digest(expected, s) for s in headers.get("webhook-signature", "").split())


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def payload(export: Export) -> bytes:
    return json.dumps({
        "id": export.key,
        "type": "lti_tool.claims",
        "credential": export.credential,
        "name": export.name,
        "claims": list(export.claim_keys),
        "subject": export.subject,
        "files": [{"filename": f.filename, "media_type": f.media_type,
                   "content_base64": base64.b64encode(f.content).decode()} for f in export.files],
    }, sort_keys=True).encode()


class HttpsDestination(Destination):
    """JSON POST signed per Standard Webhooks. Options: ``url``, ``secret_env`` or ``secret_file``,
    ``timeout_seconds`` (30: the whole call's deadline, through lti_tool.outbound)."""

    identifier = "https"
    verbose_name = "HTTPS POST (Standard Webhooks signature)"
    known_options = frozenset(OPTIONS)
    required_options = ("url",)

    def check(self) -> None:
        if not (self.options.get("secret_env") or self.options.get("secret_file")):
            raise ValueError(f"destination {self.name!r} (https) needs secret_env or secret_file")
        try:
            outbound.check_url(str(self.options["url"]))
        except ValueError as exc:
            raise ValueError(f"destination {self.name!r} (https): url {exc} (plain http and private "
                             "addresses only with [outbound] allow_private_addresses)") from None

    def deliver(self, export: Export) -> dict[str, Any]:
        secret = self.secret("secret")
        if not secret:
            raise DeliveryError(f"destination {self.name!r}: the signing secret is empty")
        body = payload(export)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": export.key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, export.key, timestamp, body),
            "Idempotency-Key": export.key,
        }
        try:
            response = outbound.request("POST", self.options["url"], data=body, headers=headers,
                                        deadline=float(self.options.get("timeout_seconds", 30)),
                                        max_bytes=RECEIPT_BYTES)
        except outbound.OutboundError as exc:
            raise DeliveryError(f"POST {self.options['url']}: {exc.reason}", permanent=exc.refused) from None
        text = response.text[:2000]
        if response.ok:
            return {"status": response.status, "body": text, "url": self.options["url"], "path": None}
        transient = response.status in RETRIED or response.status >= 500
        raise DeliveryError(f"HTTP {response.status}: {text[:500]}", permanent=not transient,
                            retry_after=retry_after(response.headers.get("Retry-After")))
