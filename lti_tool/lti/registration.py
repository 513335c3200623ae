"""LTI Dynamic Registration 1.0 (1EdTech): the platform hands the tool its OpenID configuration and a
one-time token; the tool registers itself and records the platform, pending an administrator's
approval when ``lti.registration_requires_approval`` is set.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.lti import platforms
from lti_tool.lti.claims import CANVAS_COURSE_ID, CANVAS_USER_ID
from lti_tool.lti.platforms import ToolUrls

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"


class RegistrationFailed(Exception):
    """The registration cannot go on; the message is shown to the LMS administrator."""


def _get_json(response: requests.Response, what: str) -> dict[str, Any]:
    if not response.ok:
        raise RegistrationFailed(f"{what} answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise RegistrationFailed(f"{what} did not answer JSON") from None
    if not isinstance(data, dict):
        raise RegistrationFailed(f"{what} did not answer a JSON object")
    return data


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_url(url: str, what: str) -> None:
    """https only (plain http for a loopback host, as in development and tests)."""
    parts = urlsplit(url)
    loopback_http = parts.scheme == "http" and parts.hostname in LOOPBACK
    if not parts.netloc or not (parts.scheme == "https" or loopback_http):
        raise RegistrationFailed(f"{what} must be an https URL")


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


def fetch_configuration(url: str, token: str | None, timeout: float) -> dict[str, Any]:
    _check_url(url, "openid_configuration")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(url, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise RegistrationFailed(f"the platform's configuration cannot be read: {exc}") from None
    config = _get_json(response, "the platform's configuration URL")
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or not issued_by(url, issuer):
        raise RegistrationFailed("the configuration's issuer does not match its URL")
    for key in ("registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(config.get(key), str):
            raise RegistrationFailed(f"the platform's configuration has no {key}")
        _check_url(config[key], key)
    return config


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
    config = fetch_configuration(openid_configuration, registration_token, timeout)
    headers = {"Authorization": f"Bearer {registration_token}"} if registration_token else {}
    try:
        response = requests.post(config["registration_endpoint"], json=client_metadata(urls, title),
                                 headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise RegistrationFailed(f"the platform's registration endpoint failed: {exc}") from None
    answer = _get_json(response, "the platform's registration endpoint")
    client_id = answer.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise RegistrationFailed("the platform did not give the tool a client id")
    tool_config = answer.get(TOOL_CONFIGURATION) or {}
    deployment_id = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    product = (config.get(PLATFORM_CONFIGURATION) or {}).get("product_family_code")
    try:
        return platforms.add_platform(
            session, issuer=config["issuer"], client_id=client_id,
            deployment_ids=[str(deployment_id)] if deployment_id else [],
            auth_login_url=config["authorization_endpoint"], auth_token_url=config["token_endpoint"],
            key_set_url=config["jwks_uri"], name=f"{product or 'LMS'} (dynamic registration)",
            status="pending" if requires_approval else "active",
        )
    except platforms.PlatformError as exc:
        raise RegistrationFailed(str(exc)) from None
