"""The tool's cookies, shaped for an LMS iframe: Flask's signed session cookie (holding only the
launch's random id) and the login's state cookie (:mod:`lti_tool.web.lti.launch`).

Over HTTPS (directly or behind a trusted TLS proxy) a cookie is ``Secure; SameSite=None;
Partitioned; HttpOnly``: sent inside the LMS's iframe and kept in that LMS's partition. Its name
then carries the ``__Host-`` prefix (:func:`cookie_name`), and it is set for ``Path=/`` without a
``Domain``, as the prefix requires. Over plain HTTP (a developer's machine) it falls back to
``SameSite=Lax`` under its bare name, since browsers drop ``SameSite=None`` and ``__Host-`` cookies
that are not ``Secure``. The signing key is made once and kept in the database, so every worker on
every host shares it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from lti_tool.db import write_session
from lti_tool.runtime import runtime_of
from lti_tool.services import app_secrets

SESSION_COOKIE = "lti_tool_session"


@dataclass(frozen=True)
class CookieAttributes:
    """Every cookie's attributes in a request (the state cookie's, the session's): ``Path=/`` and
    no ``Domain``, as a ``__Host-`` cookie must be set."""

    secure: bool
    samesite: str
    partitioned: bool
    path: str = "/"
    domain: str | None = None
    httponly: bool = True

    def as_arguments(self) -> dict[str, Any]:
        """For ``Response.set_cookie`` and ``delete_cookie``."""
        return {"secure": self.secure, "samesite": self.samesite, "partitioned": self.partitioned,
                "path": self.path, "domain": self.domain, "httponly": self.httponly}


def cookie_attributes() -> CookieAttributes:
    secure = request.is_secure
    return CookieAttributes(secure=secure, samesite="None" if secure else "Lax", partitioned=secure)


def cookie_name(name: str) -> str:
    """``name`` as the cookie is called in this request: over HTTPS ``__Host-`` + ``name``.

    A browser keeps a ``__Host-`` cookie only when this host itself set it (``Secure``, ``Path=/``,
    no ``Domain``), so a site on a sibling subdomain of the tool's domain cannot plant a session or
    state cookie of its own for the tool (cookie tossing). A planted state cookie would have bound
    a victim's browser to the attacker's login, and a planted session cookie would have shown them
    the attacker's pages."""
    return f"__Host-{name}" if request.is_secure else name


class LaunchSessionInterface(SecureCookieSessionInterface):
    def get_cookie_name(self, app: Flask) -> str:
        return cookie_name(SESSION_COOKIE)

    def get_cookie_path(self, app: Flask) -> str:
        return cookie_attributes().path

    def get_cookie_domain(self, app: Flask) -> str | None:
        return cookie_attributes().domain

    def get_cookie_httponly(self, app: Flask) -> bool:
        return cookie_attributes().httponly

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_attributes().secure

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return cookie_attributes().samesite

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return cookie_attributes().partitioned

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            app.secret_key = shared_secret(app)
        return super().get_signing_serializer(app)


def shared_secret(app: Flask, name: str = "session") -> str:
    with write_session(runtime_of(app).sessions) as session:
        return app_secrets.shared_secret(session, name)
