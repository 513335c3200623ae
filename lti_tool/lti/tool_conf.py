"""A platform's registration in pylti1p3's terms, read from the database.

The registration carries the tool's current signing key, which is what pylti1p3's deep-linking
response signs with.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.registration import Registration
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.lti import keys


class ToolRegistration(Registration):
    """A registration whose kid is the tool key's own (not derived from the PEM)."""

    _kid: str | None = None

    def set_kid(self, kid: str) -> ToolRegistration:
        self._kid = kid
        return self

    def get_kid(self) -> str | None:
        return self._kid

    def get_jwks(self) -> list[Any]:
        raise NotImplementedError("the tool's JWKS is served from the database (lti.keys.jwks)")


def registration_for(session: Session, platform: models.Platform) -> ToolRegistration:
    registration = ToolRegistration()
    registration.set_issuer(platform.issuer).set_client_id(platform.client_id)
    registration.set_auth_login_url(platform.auth_login_url)
    registration.set_auth_token_url(platform.auth_token_url).set_key_set_url(platform.key_set_url)
    key = keys.signing_key(session)
    registration.set_tool_private_key(key.private_pem)
    registration.set_kid(key.kid)
    return registration
