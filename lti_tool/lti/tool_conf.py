"""pylti1p3's tool configuration, read from the database.

Every issuer may have many client ids (Canvas shares one issuer among all its customers), so only the
``*_by_params`` lookups are meaningful; the issuer-only ones answer when the issuer has exactly one
active registration. The registration carries the tool's current signing key, which is what
pylti1p3's deep-linking response and service calls sign with.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.lti import keys, platforms


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


class DatabaseToolConf(ToolConfAbstract[Any]):
    def __init__(self, session: Session) -> None:
        self.session = session
        self.issuers_relation_types = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        platform = platforms.find_platform(self.session, iss, None)
        return registration_for(self.session, platform) if platform else None  # type: ignore[return-value]

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration:
        platform = platforms.find_platform(self.session, iss, client_id)
        return registration_for(self.session, platform) if platform else None  # type: ignore[return-value]

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        platform = platforms.find_platform(self.session, iss, None)
        return self._deployment(platform, deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        platform = platforms.find_platform(self.session, iss, client_id)
        return self._deployment(platform, deployment_id)

    def _deployment(self, platform: models.Platform | None, deployment_id: str) -> Deployment | None:
        if platform is None or not platforms.has_deployment(self.session, platform.id, deployment_id):
            return None
        return Deployment().set_deployment_id(deployment_id)
