"""LTI 1.3 claim names and the message types the tool accepts."""

from __future__ import annotations

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
VERSION = LTI + "version"
MESSAGE_TYPE = LTI + "message_type"
DEPLOYMENT_ID = LTI + "deployment_id"
ROLES = LTI + "roles"
RESOURCE_LINK = LTI + "resource_link"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
TARGET_LINK_URI = LTI + "target_link_uri"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)

CANVAS_USER_ID = "canvas_user_id"
"""The custom parameter the tool asks Canvas for (``$Canvas.user.id``): the id Canvas events use."""
CANVAS_COURSE_ID = "canvas_course_id"
"""The custom parameter for ``$Canvas.course.id``: the course id Canvas events use."""
