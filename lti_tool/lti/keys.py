"""The tool's RSA keys: generated, rotated, published as a JWKS, and the one that signs now.

A new key is published ``key_publish_ahead_seconds`` before it signs, so platforms that cache the
tool's JWKS already know it; the key it replaces stays published ``key_grace_seconds`` after.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool import models


class NoSigningKey(LookupError):
    """No tool key is active; run ``lti-tool init`` or ``lti-tool keys rotate``."""


def generate_key(session: Session, activates_at: datetime) -> models.ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = secrets.token_urlsafe(16)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.pop("key_ops", None)  # RFC 7517 4.3: not together with "use"
    jwk.update(kid=kid, alg="RS256", use="sig")
    key = models.ToolKey(kid=kid, private_pem=pem, public_jwk=jwk, activates_at=activates_at)
    session.add(key)
    session.flush()
    return key


def ensure_key(session: Session) -> models.ToolKey | None:
    """Make the first key, active at once, unless the tool has one; return the new key or None."""
    if session.scalar(select(models.ToolKey.id).limit(1)) is not None:
        return None
    return generate_key(session, models.utcnow())


def rotate(session: Session, *, publish_ahead: timedelta, grace: timedelta) -> models.ToolKey:
    """Publish the next key now; it signs after ``publish_ahead``; older keys retire ``grace`` later."""
    now = models.utcnow()
    new = generate_key(session, now + publish_ahead)
    for key in session.scalars(select(models.ToolKey).where(
            models.ToolKey.id != new.id, models.ToolKey.retired_at.is_(None))):
        key.retired_at = new.activates_at + grace
    session.flush()
    return new


def published(session: Session, now: datetime | None = None) -> list[models.ToolKey]:
    now = now or models.utcnow()
    return list(session.scalars(
        select(models.ToolKey)
        .where(or_(models.ToolKey.retired_at.is_(None), models.ToolKey.retired_at > now))
        .order_by(models.ToolKey.id)
    ))


def jwks(session: Session) -> dict[str, Any]:
    """The public key set platforms verify the tool's messages with."""
    return {"keys": [key.public_jwk for key in published(session)]}


def signing_key(session: Session, now: datetime | None = None) -> models.ToolKey:
    """The newest published key whose activation time has come."""
    now = now or models.utcnow()
    active = [key for key in published(session, now) if key.activates_at <= now]
    if not active:
        raise NoSigningKey("the tool has no active key: run `lti-tool init` or `lti-tool keys rotate`")
    return max(active, key=lambda key: (key.activates_at, key.id))
