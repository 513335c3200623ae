"""``Content-Security-Policy: frame-ancestors``: only the registered platforms may frame the tool."""

from __future__ import annotations

import threading
import time

from flask import Flask, Response, current_app
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.db import read_session
from lti_tool.lti import platforms
from lti_tool.runtime import runtime_of

EXTENSION = "lti_tool.frame_origins"
"""The key under which :func:`install` keeps the app's :class:`FrameOrigins` in ``app.extensions``."""


class FrameOrigins:
    """The origins of the active platforms, read at most once every ``ttl`` seconds.

    Every HTML answer (the login's redirect and the launch's among them) names them; reading them
    cost a read transaction per answer, a tenth of a launch's time. A platform is added or approved
    by a command or a registration that may run in another process, so the value is not invalidated
    on a change but expires: a platform just approved may frame the tool, and one just removed stops
    framing it, after at most ``ttl`` seconds.
    """

    def __init__(self, sessions: sessionmaker[Session], ttl: float = 5.0) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._lock = threading.Lock()
        self._value: list[str] = []
        self._until = 0.0

    def get(self) -> list[str]:
        now = time.monotonic()
        if now < self._until:
            return self._value
        with self._lock:
            if now >= self._until:
                with read_session(self._sessions) as session:
                    self._value = platforms.frame_origins(session)
                self._until = time.monotonic() + self._ttl
            return self._value


def install(app: Flask) -> None:
    """Name the registered platforms in every HTML answer of ``app``."""
    app.extensions[EXTENSION] = FrameOrigins(runtime_of(app).sessions)
    app.after_request(add_frame_ancestors)


def add_frame_ancestors(response: Response) -> Response:
    if response.mimetype != "text/html" or "Content-Security-Policy" in response.headers:
        return response
    cache: FrameOrigins = current_app.extensions[EXTENSION]
    origins = cache.get()
    response.headers["Content-Security-Policy"] = "frame-ancestors " + " ".join(["'self'", *origins])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
