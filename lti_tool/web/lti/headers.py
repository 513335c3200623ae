"""``Content-Security-Policy: frame-ancestors``: only the registered platforms may frame the tool."""

from __future__ import annotations

from flask import Response

from lti_tool.db import read_session
from lti_tool.lti import platforms
from lti_tool.runtime import current_runtime


def add_frame_ancestors(response: Response) -> Response:
    if response.mimetype != "text/html" or "Content-Security-Policy" in response.headers:
        return response
    with read_session(current_runtime().sessions) as session:
        origins = platforms.frame_origins(session)
    response.headers["Content-Security-Policy"] = "frame-ancestors " + " ".join(["'self'", *origins])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
