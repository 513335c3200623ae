"""Flask's signed session cookie, shaped for an LMS iframe, holding only the launch's random id.

Over HTTPS (directly or behind a trusted TLS proxy) the cookie is ``Secure; SameSite=None;
Partitioned; HttpOnly``: sent inside the LMS's iframe and kept in that LMS's partition. Over plain
HTTP (a developer's machine) it falls back to ``SameSite=Lax``, since browsers drop ``SameSite=None``
cookies that are not ``Secure``. The signing key is made once and kept in the database, so every
worker on every host shares it.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from lti_tool.db import write_session
from lti_tool.runtime import runtime_of
from lti_tool.services import app_secrets


class LaunchSessionInterface(SecureCookieSessionInterface):
    def get_cookie_name(self, app: Flask) -> str:
        return "lti_tool_session"

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "None" if request.is_secure else "Lax"

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return request.is_secure

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            app.secret_key = shared_secret(app)
        return super().get_signing_serializer(app)


def shared_secret(app: Flask, name: str = "session") -> str:
    with write_session(runtime_of(app).sessions) as session:
        return app_secrets.shared_secret(session, name)
