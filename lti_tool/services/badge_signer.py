"""The tool as an Open Badges issuer: its profile, its revocation list, and signing with its key.

The issuer profile is served at ``<base>/ob/issuer`` and the revocation list at
``<base>/ob/status/revocation``, where ``<base>`` is ``lti.public_url`` (or, when it is not set,
the tool's own server address, which only suits a local deployment). Credentials are signed with
the tool's active key (:func:`lti_tool.lti.keys.signing_key`), the one the LMS already trusts
through ``/.well-known/jwks.json``; a key rotation keeps the old key published for its grace
period, and credentials signed with it verify until it is retired.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.exports import status_list, vc_jwt
from lti_tool.exports.base import DeliveryError
from lti_tool.exports.config import Exports
from lti_tool.lti.keys import NoSigningKey, signing_key
from lti_tool.settings import Settings

ISSUER_PATH = "/ob/issuer"
STATUS_PATH = "/ob/status/revocation"


def issuer_base(settings: Settings) -> str:
    return (settings.lti.public_url or f"http://{settings.server.host}:{settings.server.port}").rstrip("/")


def issuer_profile(settings: Settings, base: str | None = None) -> dict[str, Any]:
    """The issuer ``Profile`` document (and, as embedded in each credential, its issuer)."""
    base = base or issuer_base(settings)
    profile: dict[str, Any] = {"id": base + ISSUER_PATH, "type": ["Profile"],
                               "name": settings.certificates.issuer_name}
    if settings.certificates.issuer_url:
        profile["url"] = settings.certificates.issuer_url
    return profile


def sign_with_tool_key(session: Session, credential: dict[str, Any]) -> str:
    key = signing_key(session)
    return vc_jwt.sign(credential, key.private_pem, key.kid)


def revocation_list(session: Session, settings: Settings, now: datetime, base: str | None = None) -> str:
    """The signed ``BitstringStatusListCredential``: a bit set for every revoked award."""
    base = base or issuer_base(settings)
    revoked = session.scalars(select(models.LedgerEntry.award_id).where(models.LedgerEntry.kind == "reversal"))
    document = status_list.list_credential(base + STATUS_PATH, issuer_profile(settings, base), revoked, now)
    return sign_with_tool_key(session, document)


class BadgeSigner:
    """The :class:`~lti_tool.exports.signing.CredentialSigner` of the tool (reads the key each time)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings):
        self.sessions = sessions
        self.settings = settings

    def issuer(self) -> dict[str, Any]:
        return issuer_profile(self.settings)

    def status(self, award_id: int) -> dict[str, Any]:
        return status_list.entry(issuer_base(self.settings) + STATUS_PATH, award_id)

    def sign(self, credential: dict[str, Any]) -> str:
        with read_session(self.sessions) as session:
            try:
                return sign_with_tool_key(session, credential)
            except NoSigningKey as exc:
                raise DeliveryError(f"open-badges cannot sign: {exc}") from None


def bind_signers(exports: Exports, signer: BadgeSigner) -> None:
    """Give every exporter the tool's public URL (links in documents; none when ``lti.public_url`` is
    not set: an exported certificate must not print a guessed address) and signers their signer."""
    for exporter in exports.exporters.values():
        exporter.public_base = signer.settings.lti.public_url or None
        if exporter.signs:
            exporter.signer = signer
