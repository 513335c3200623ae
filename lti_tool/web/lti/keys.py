"""``/.well-known/jwks.json`` (the tool's public keys) and ``/lti/canvas.json`` (a Canvas developer key)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, jsonify

from lti_tool.db import read_session
from lti_tool.lti import keys as key_service
from lti_tool.lti.claims import CANVAS_COURSE_ID, CANVAS_USER_ID
from lti_tool.runtime import current_runtime
from lti_tool.web.lti.context import tool_urls

blueprint = Blueprint("lti_keys", __name__)

TITLE = "Continuing-education credit"
DESCRIPTION = "Credit earned from course completions, progress toward renewal and certificates."


@blueprint.get("/.well-known/jwks.json")
def jwks() -> Any:
    with read_session(current_runtime().sessions) as db:
        response = jsonify(key_service.jwks(db))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.get("/lti/canvas.json")
def canvas_config() -> Any:
    """Paste into Canvas: Admin > Developer Keys > + LTI Key > Method: Enter URL."""
    urls = tool_urls()
    return jsonify({
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": urls.login_url,
        "target_link_uri": urls.launch_url,
        "public_jwk_url": urls.jwks_url,
        "scopes": [],
        "custom_fields": {CANVAS_USER_ID: "$Canvas.user.id", CANVAS_COURSE_ID: "$Canvas.course.id"},
        "extensions": [{
            "domain": urlsplit(urls.launch_url).hostname,
            "platform": "canvas.instructure.com",
            "privacy_level": "public",
            "settings": {
                "text": TITLE,
                "placements": [
                    {"placement": "course_navigation", "message_type": "LtiResourceLinkRequest",
                     "target_link_uri": urls.launch_url, "text": TITLE},
                    {"placement": "link_selection", "message_type": "LtiDeepLinkingRequest",
                     "target_link_uri": urls.launch_url, "text": TITLE},
                ],
            },
        }],
    })
