"""Placing the tool in a course (LTI Deep Linking 2.0), signed with the tool's current key.

pylti1p3's :class:`~pylti1p3.deep_link.DeepLink` builds and signs the response JWT; the tool only
chooses the one resource link it offers.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.lti import claims as c
from lti_tool.lti.tool_conf import registration_for

TITLE_LIMIT = 255
"""The longest link title the tool places (Moodle's and Canvas's link names hold 255)."""


def response_jwt(
    session: Session, launch: models.LaunchSession, *, launch_url: str, title: str
) -> tuple[str, str]:
    """(the platform's return URL, the signed ``LtiDeepLinkingResponse``)."""
    platform = session.get(models.Platform, launch.platform_id)
    assert platform is not None
    settings: dict[str, Any] = launch.claims[c.DEEP_LINKING_SETTINGS]
    registration = registration_for(session, platform)
    deep_link = DeepLink(registration, launch.deployment_id, settings)  # type: ignore[arg-type]
    resource = DeepLinkResource().set_url(launch_url).set_title(title)
    return settings["deep_link_return_url"], deep_link.get_response_jwt([resource])
