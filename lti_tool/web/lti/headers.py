"""``Content-Security-Policy: frame-ancestors``: only the registered platforms may frame the tool."""

from __future__ import annotations

from flask import Flask, Response, current_app

from lti_tool.lti.frame_origins import FrameOrigins
from lti_tool.runtime import runtime_of

EXTENSION = "lti_tool.frame_origins"
"""The key under which :func:`install` keeps the app's :class:`FrameOrigins` in ``app.extensions``."""


def install(app: Flask) -> None:
    """Name the registered platforms (remembered for 5 s) in every HTML answer of ``app``."""
    app.extensions[EXTENSION] = FrameOrigins(runtime_of(app).sessions)
    app.after_request(add_frame_ancestors)


def add_frame_ancestors(response: Response) -> Response:
    if response.mimetype != "text/html" or "Content-Security-Policy" in response.headers:
        return response
    origins: FrameOrigins = current_app.extensions[EXTENSION]
    response.headers["Content-Security-Policy"] = "frame-ancestors " + " ".join(["'self'", *origins.get()])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
