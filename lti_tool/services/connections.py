"""Connecting a source to its LMS's API, so the tool can ask it for completions (reconciliation).

The connection keeps the API's root URL and *where* each secret lives (an environment variable or a
file outside any repository), never the secret itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models, outbound, text
from lti_tool.exports.base import refuse_file_in_repository
from lti_tool.services.sources import SourceError, find_by_name

API_URL_LIMIT = 2000
"""The source connections' ``api_url`` column."""


@dataclass(frozen=True)
class Credentials:
    """Where the secrets are: exactly one of a token (environment or file) or, for Canvas, an OAuth2
    developer key with a refresh token."""

    token_env: str | None = None
    token_file: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    refresh_token_env: str | None = None

    def auth(self, kind: str) -> dict[str, Any]:
        oauth = (self.client_id, self.client_secret_env, self.refresh_token_env)
        token = [v for v in (self.token_env, self.token_file) if v]
        if any(oauth):
            if kind != "canvas":
                raise SourceError("an OAuth2 developer key is for Canvas sources only")
            if token:
                raise SourceError("give a token or an OAuth2 developer key, not both")
            if not all(oauth):
                raise SourceError("an OAuth2 developer key needs --client-id, --client-secret-env and "
                                  "--refresh-token-env")
            return {"client_id": self.client_id, "client_secret_env": self.client_secret_env,
                    "refresh_token_env": self.refresh_token_env}
        if len(token) != 1:
            raise SourceError("give one of --token-env or --token-file")
        if self.token_file:
            try:
                refuse_file_in_repository("connection", "token_file", Path(self.token_file))
            except ValueError as exc:
                raise SourceError(str(exc).replace("destination 'connection': ", "")) from None
            return {"token_file": str(Path(self.token_file).expanduser().resolve())}
        return {"token_env": self.token_env}


def check_api_url(url: str) -> str:
    """The LMS's API root: an http(s) URL without a query that fits its column, whose scheme and
    literal address the outbound policy allows (the same check as ``sources add --jwks-url``: no
    link-local metadata service, no private address outside development; names are checked when
    called, after resolution)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SourceError(f"--api-url must be an http(s) URL such as https://school.instructure.com, got {url[:200]!r}")
    if parts.query or parts.fragment:
        raise SourceError("--api-url is the LMS's root URL, without a query")
    try:
        text.checked(url, "--api-url", API_URL_LIMIT)
        outbound.check_url(url.strip())
    except text.BadText as exc:
        raise SourceError(str(exc)) from None
    except ValueError as exc:
        raise SourceError(f"--api-url {exc}") from None
    return url.strip().rstrip("/")


def connect_source(session: Session, name: str, api_url: str, credentials: Credentials) -> models.SourceConnection:
    """Set (or replace) the API connection of the source ``name``."""
    source = find_by_name(session, name)
    if source is None:
        raise SourceError(f"no source named {name!r}")
    url, auth = check_api_url(api_url), credentials.auth(source.kind)
    connection = session.scalar(select(models.SourceConnection).where(models.SourceConnection.source_id == source.id))
    if connection is None:
        connection = models.SourceConnection(source_id=source.id, api_url=url, auth=auth)
        session.add(connection)
    else:
        connection.api_url, connection.auth = url, auth
    session.flush()
    return connection


def find_connection(session: Session, source_id: int) -> models.SourceConnection | None:
    return session.scalar(select(models.SourceConnection).where(models.SourceConnection.source_id == source_id))


def describe_connection(session: Session, connection: models.SourceConnection) -> dict[str, Any]:
    source = session.get(models.Source, connection.source_id)
    assert source is not None  # a connection's source is a foreign key
    return {"source": source.name, "kind": source.kind, "api_url": connection.api_url,
            "auth": dict(connection.auth), "updated_at": connection.updated_at.isoformat()}
