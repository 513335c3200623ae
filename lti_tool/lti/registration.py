"""LTI Dynamic Registration 1.0 (1EdTech): the platform hands the tool its OpenID configuration and a
one-time token; the tool registers itself and records the platform, pending an administrator's
approval when ``lti.registration_requires_approval`` is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from lti_tool import models, outbound, text
from lti_tool.lti import platforms
from lti_tool.lti.claims import CANVAS_COURSE_ID, CANVAS_USER_ID
from lti_tool.lti.platforms import ToolUrls

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"

log = logging.getLogger(__name__)


class RegistrationFailed(Exception):
    """The registration cannot go on; the message is shown to the LMS administrator."""


UNREACHABLE = ("the platform could not be reached, or did not answer as LTI Dynamic Registration "
               "requires")
"""One reason for every failed call: the page says nothing about what lies behind an address."""

CONFIGURATION_BYTES = 256 * 1024
"""An OpenID configuration or registration answer larger than this is refused."""

FIELD_LIMITS = {"issuer": 500, "registration_endpoint": 2000, "authorization_endpoint": 2000,
                "token_endpoint": 2000, "jwks_uri": 2000, "client_id": 255, "deployment_id": 255,
                "product_family_code": 100}
"""The platform's values and the columns they go to (models.Platform, models.Deployment)."""


def _call(method: str, url: str, what: str, *, deadline: float, **kwargs: Any) -> dict[str, Any]:
    try:
        response = outbound.request(method, url, deadline=deadline, max_bytes=CONFIGURATION_BYTES,
                                    **kwargs)
        if not response.ok:
            raise ValueError(f"HTTP {response.status}")
        data = response.json()
    except (outbound.OutboundError, ValueError) as exc:
        log.warning("dynamic registration: %s %s failed: %s", what, url[:200],
                    getattr(exc, "reason", exc))
        raise RegistrationFailed(UNREACHABLE) from None
    if not isinstance(data, dict):
        log.warning("dynamic registration: %s did not answer a JSON object", what)
        raise RegistrationFailed(UNREACHABLE)
    return data


def _field(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and key == "deployment_id":
        value = str(value)
    try:
        return text.checked(value, key, FIELD_LIMITS[key])
    except text.BadText as exc:
        raise RegistrationFailed(f"the platform's configuration is not usable: {exc}") from None


def _check_url(url: str, what: str) -> None:
    if len(url) > FIELD_LIMITS.get(what, 2000):
        raise RegistrationFailed(f"{what} is longer than {FIELD_LIMITS.get(what, 2000)} characters")
    try:
        outbound.check_url(url)
    except ValueError:
        raise RegistrationFailed(f"{what} must be an https URL of a public host") from None


CANVAS_CLOUD_ISSUERS = (
    "canvas.instructure.com", "canvas.beta.instructure.com", "canvas.test.instructure.com")


def issued_by(url: str, issuer: str) -> bool:
    """The configuration URL lies under its issuer (LTI-DR 1.0 section 3.5.1): same scheme and host,
    the issuer's path a prefix. Canvas Cloud serves its configuration from the school's
    ``*.instructure.com`` host under the shared Canvas issuer."""
    u, i = urlsplit(url), urlsplit(issuer)
    if u.scheme == i.scheme == "https" and i.netloc in CANVAS_CLOUD_ISSUERS:
        return (u.hostname or "").endswith(".instructure.com")
    return (u.scheme, u.netloc) == (i.scheme, i.netloc) and (
        u.path == i.path or u.path.startswith(i.path.rstrip("/") + "/"))


def fetch_configuration(url: str, token: str | None, deadline: float) -> dict[str, Any]:
    _check_url(url, "openid_configuration")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    config = _call("GET", url, "the configuration URL", deadline=deadline, headers=headers)
    issuer = _field(config, "issuer")
    if issuer is None or not issued_by(url, issuer):
        raise RegistrationFailed("the configuration's issuer does not match its URL")
    for key in ("registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(config.get(key), str):
            raise RegistrationFailed(f"the platform's configuration has no {key}")
        _field(config, key)
        _check_url(config[key], key)
    return config


@dataclass(frozen=True)
class Negotiated:
    """What the platform answered: the platform's side of a registration, not yet recorded."""

    issuer: str
    client_id: str
    deployment_id: str | None
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    product: str | None


def negotiate(*, openid_configuration: str, registration_token: str | None, urls: ToolUrls,
              title: str, deadline: float) -> Negotiated:
    """The two calls of a registration (read the configuration, register the tool), each within
    ``deadline`` seconds. Holds no database transaction: a slow platform holds no writer."""
    if registration_token is not None:
        registration_token = text.checked(registration_token, "registration_token", 8192,
                                          required=False) or None
    config = fetch_configuration(openid_configuration, registration_token, deadline)
    headers = {"Authorization": f"Bearer {registration_token}"} if registration_token else {}
    answer = _call("POST", config["registration_endpoint"], "the registration endpoint",
                   deadline=deadline, json=client_metadata(urls, title), headers=headers)
    client_id = _field(answer, "client_id")
    tool_config = answer.get(TOOL_CONFIGURATION) or {}
    deployment_id = (_field(tool_config, "deployment_id", required=False)
                     if isinstance(tool_config, dict) else None)
    platform_config = config.get(PLATFORM_CONFIGURATION)
    product = (_field(platform_config, "product_family_code", required=False)
               if isinstance(platform_config, dict) else None)
    assert client_id is not None
    return Negotiated(issuer=config["issuer"].strip(), client_id=client_id, deployment_id=deployment_id,
                      auth_login_url=config["authorization_endpoint"].strip(),
                      auth_token_url=config["token_endpoint"].strip(),
                      key_set_url=config["jwks_uri"].strip(), product=product)


def record(session: Session, negotiated: Negotiated, *, requires_approval: bool) -> models.Platform:
    """Record a negotiated registration (in the caller's transaction)."""
    try:
        return platforms.add_platform(
            session, issuer=negotiated.issuer, client_id=negotiated.client_id,
            deployment_ids=[negotiated.deployment_id] if negotiated.deployment_id else [],
            auth_login_url=negotiated.auth_login_url, auth_token_url=negotiated.auth_token_url,
            key_set_url=negotiated.key_set_url,
            name=f"{negotiated.product or 'LMS'} (dynamic registration)",
            status="pending" if requires_approval else "active",
        )
    except platforms.PlatformError as exc:
        raise RegistrationFailed(str(exc)) from None


def client_metadata(urls: ToolUrls, title: str) -> dict[str, Any]:
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login_url,
        "redirect_uris": [urls.launch_url],
        "client_name": title,
        "jwks_uri": urls.jwks_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": "",
        TOOL_CONFIGURATION: {
            "domain": urlsplit(urls.launch_url).netloc,
            "target_link_uri": urls.launch_url,
            "custom_parameters": {CANVAS_USER_ID: "$Canvas.user.id", CANVAS_COURSE_ID: "$Canvas.course.id"},
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": urls.launch_url, "label": title,
                 "placements": ["course_navigation"]},
                {"type": "LtiDeepLinkingRequest", "target_link_uri": urls.launch_url, "label": title,
                 "placements": ["link_selection"]},
            ],
            CANVAS_PRIVACY_LEVEL: "public",  # Canvas: send names and e-mail (Moodle ignores it)
        },
    }


def register(
    session: Session, *, openid_configuration: str, registration_token: str | None, urls: ToolUrls,
    title: str, timeout: float, requires_approval: bool,
) -> models.Platform:
    """:func:`negotiate` then :func:`record` (for callers without a web request to keep free)."""
    negotiated = negotiate(openid_configuration=openid_configuration,
                           registration_token=registration_token, urls=urls, title=title,
                           deadline=timeout)
    return record(session, negotiated, requires_approval=requires_approval)
