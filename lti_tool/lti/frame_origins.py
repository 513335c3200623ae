"""The origins allowed to frame the tool's pages, remembered for a few seconds."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from lti_tool.db import read_session
from lti_tool.lti import platforms


class FrameOrigins:
    """The origins of the active platforms (:func:`lti_tool.lti.platforms.frame_origins`), read at
    most once every ``ttl`` seconds.

    Every HTML answer (the login's redirect and the launch's among them) names them; reading them
    cost a read transaction per answer, a tenth of a launch's time. A platform is added or approved
    by a command or a registration that may run in another process, so the value is not invalidated
    on a change but expires: a platform just approved may frame the tool, and one just removed stops
    framing it, after at most ``ttl`` seconds. A read happens in its own short read transaction.
    """

    def __init__(self, sessions: sessionmaker[Session], ttl: float = 5.0) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._lock = threading.Lock()
        self._value: list[str] = []
        self._until = 0.0

    def get(self) -> list[str]:
        if time.monotonic() < self._until:
            return self._value
        with self._lock:
            if time.monotonic() >= self._until:
                with read_session(self._sessions) as session:
                    self._value = platforms.frame_origins(session)
                self._until = time.monotonic() + self._ttl
            return self._value
