"""Registering event sources and recognizing them on each request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models, outbound, text
from lti_tool.db import read_session

KINDS = ("canvas", "moodle", "xapi")


class SourceError(ValueError):
    """A source cannot be registered as asked."""


@dataclass(frozen=True)
class NewSource:
    id: int
    kind: str
    name: str
    url: str
    secret: str


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def add_source(
    session: Session,
    *,
    kind: str,
    name: str,
    jwks_url: str | None = None,
    same_identities_as: str | None = None,
) -> NewSource:
    """Register a source; its URL token and secret are shown now and never again."""
    if kind not in KINDS:
        raise SourceError(f"unknown source kind {kind!r}: use one of {', '.join(KINDS)}")
    if not name.strip():
        raise SourceError("a source needs a name")
    try:
        name = text.checked(name, "the source name", 100)
        if jwks_url:
            text.checked(jwks_url, "--jwks-url", 2000)
            outbound.check_url(jwks_url)
    except ValueError as exc:
        raise SourceError(f"{exc}" if isinstance(exc, text.BadText) else f"--jwks-url {exc}") from None
    if session.scalar(select(models.Source).where(models.Source.name == name)):
        raise SourceError(f"a source named {name!r} exists already")
    identity_id = None
    if same_identities_as:
        other = session.scalar(select(models.Source).where(models.Source.name == same_identities_as))
        if other is None:
            raise SourceError(f"no source named {same_identities_as!r}")
        identity_id = other.identity_id
    token, secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    source = models.Source(
        kind=kind,
        name=name,
        token_hash=digest(token),
        secret_hash=digest(secret),
        jwks_url=jwks_url or None,
        identity_source_id=identity_id,
    )
    session.add(source)
    session.flush()
    return NewSource(source.id, kind, name, f"/events/{kind}/{token}", secret)


_BY_TOKEN = select(models.Source).where(models.Source.token_hash == bindparam("token_hash"))
"""Built once: every event request looks its source up."""


def find_by_token(session: Session, token: str) -> models.Source | None:
    return session.scalar(_BY_TOKEN, {"token_hash": digest(token)})


@dataclass(frozen=True)
class KnownSource:
    """What an event request needs of its source, kept between requests."""

    id: int
    kind: str
    name: str
    identity_id: int
    jwks_url: str | None
    secret_hash: str


class SourceCache:
    """Sources recognized by URL token, remembered for ``ttl`` seconds.

    Every event request names its source; looking it up cost a read transaction per event, more than
    a third of an event's time on SQLite. A source's token, kind, secret and key URL never change
    once registered (there is no command that changes them), so a remembered source is the stored
    one; the time limit only bounds how long a process would go on accepting a source removed by
    hand from the database. Unknown tokens are not remembered: a new source works at once.

    A miss reads in its own short read transaction: the cache outlives requests, and the event
    request that asks holds no transaction yet.
    """

    def __init__(self, sessions: sessionmaker[Session], ttl: float = 60.0) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._known: dict[str, tuple[KnownSource, float]] = {}

    def find(self, token: str) -> KnownSource | None:
        token_hash = digest(token)
        hit = self._known.get(token_hash)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        with read_session(self._sessions) as session:
            source = find_by_token(session, token)
            if source is None:
                self._known.pop(token_hash, None)
                return None
            known = KnownSource(source.id, source.kind, source.name, source.identity_id, source.jwks_url,
                                source.secret_hash)
        self._known[token_hash] = (known, now + self._ttl)
        return known


def find_source(session: Session, source_id: int) -> models.Source | None:
    return session.get(models.Source, source_id)


def list_sources(session: Session) -> list[models.Source]:
    return list(session.scalars(select(models.Source).order_by(models.Source.id)))


def find_by_name(session: Session, name: str) -> models.Source | None:
    return session.scalar(select(models.Source).where(models.Source.name == name))


def secret_matches(source: models.Source | KnownSource, secret: str) -> bool:
    return hmac.compare_digest(source.secret_hash, digest(secret))


def describe(source: models.Source) -> dict[str, object]:
    return {
        "id": source.id,
        "kind": source.kind,
        "name": source.name,
        "jwks_url": source.jwks_url,
        "identity_source_id": source.identity_id,
        "created_at": source.created_at.isoformat(),
    }
