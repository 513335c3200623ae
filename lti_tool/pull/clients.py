"""The pull client for a source's kind."""

from __future__ import annotations

from typing import Any

from lti_tool.pull.canvas import CanvasClient, Throttle
from lti_tool.pull.found import PullClient
from lti_tool.pull.http import LmsHttp
from lti_tool.pull.lrs import LrsClient
from lti_tool.pull.moodle import MoodleClient


def client_for(kind: str, http: LmsHttp, api_url: str, auth: dict[str, Any], throttle: Throttle) -> PullClient:
    if kind == "canvas":
        return CanvasClient(http, api_url, auth, throttle=throttle)
    if kind == "moodle":
        return MoodleClient(http, api_url, auth)
    if kind == "xapi":
        return LrsClient(http, api_url, auth)
    raise ValueError(f"no pull client for sources of kind {kind!r}")
