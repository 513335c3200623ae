"""Platform registrations and their deployments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models, text


class PlatformError(ValueError):
    """A platform cannot be registered as asked."""


@dataclass(frozen=True)
class ToolUrls:
    """What an LMS administrator pastes into the LMS."""

    login_url: str
    launch_url: str
    jwks_url: str
    deep_linking_url: str
    canvas_config_url: str
    registration_url: str

    @classmethod
    def at(cls, base: str) -> ToolUrls:
        base = base.rstrip("/")
        return cls(
            login_url=f"{base}/lti/login", launch_url=f"{base}/lti/launch",
            jwks_url=f"{base}/.well-known/jwks.json", deep_linking_url=f"{base}/lti/launch",
            canvas_config_url=f"{base}/lti/canvas.json", registration_url=f"{base}/lti/register",
        )


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise PlatformError(f"{name} must be an absolute http(s) URL, got {url[:200]!r}")
    limit = 500 if name == "issuer" else 2000
    try:
        text.checked(url, name, limit)
    except text.BadText as exc:
        raise PlatformError(str(exc)) from None


def add_platform(
    session: Session, *, issuer: str, client_id: str, deployment_ids: list[str], auth_login_url: str,
    auth_token_url: str, key_set_url: str, name: str | None = None, source_name: str | None = None,
    status: str = "active",
) -> models.Platform:
    for field, url in (("issuer", issuer), ("auth-login-url", auth_login_url),
                       ("auth-token-url", auth_token_url), ("key-set-url", key_set_url)):
        _check_url(field, url)
    if not client_id.strip():
        raise PlatformError("a platform needs a client id")
    try:
        text.checked(client_id, "the client id", 255)
        for deployment_id in deployment_ids:
            text.checked(deployment_id, "a deployment id", 255)
        if name is not None:
            text.checked(name, "the platform's name", 255)
    except text.BadText as exc:
        raise PlatformError(str(exc)) from None
    if session.scalar(select(models.Platform).where(
            models.Platform.issuer == issuer, models.Platform.client_id == client_id)):
        raise PlatformError(f"a platform with issuer {issuer!r} and client id {client_id!r} exists")
    source_id = _source_id(session, source_name) if source_name else None
    platform = models.Platform(
        issuer=issuer, client_id=client_id, name=name, auth_login_url=auth_login_url,
        auth_token_url=auth_token_url, key_set_url=key_set_url, source_id=source_id, status=status,
    )
    session.add(platform)
    session.flush()
    for deployment_id in dict.fromkeys(deployment_ids):
        add_deployment(session, platform, deployment_id)
    return platform


def add_deployment(session: Session, platform: models.Platform, deployment_id: str) -> None:
    if not deployment_id.strip():
        raise PlatformError("a deployment id cannot be empty")
    try:
        text.checked(deployment_id, "a deployment id", 255)
    except text.BadText as exc:
        raise PlatformError(str(exc)) from None
    session.add(models.Deployment(platform_id=platform.id, deployment_id=deployment_id))
    session.flush()


def find_platform(session: Session, issuer: str, client_id: str | None) -> models.Platform | None:
    """The active platform for (issuer, client_id); with no client id, the issuer's only one."""
    query = select(models.Platform).where(
        models.Platform.issuer == issuer, models.Platform.status == "active")
    if client_id:
        return session.scalar(query.where(models.Platform.client_id == client_id))
    found = list(session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


def has_deployment(session: Session, platform_id: int, deployment_id: str) -> bool:
    return session.scalar(select(models.Deployment.id).where(
        models.Deployment.platform_id == platform_id,
        models.Deployment.deployment_id == deployment_id)) is not None


def get_platform(session: Session, platform_id: int) -> models.Platform:
    """The platform with this id; :class:`PlatformError` if there is none."""
    platform = session.get(models.Platform, platform_id)
    if platform is None:
        raise PlatformError(f"no platform with id {platform_id}")
    return platform


def approve(
    session: Session, platform_id: int, *, source_name: str | None = None, deployment_ids: list[str] | None = None,
) -> models.Platform:
    platform = get_platform(session, platform_id)
    if source_name:
        platform.source_id = _source_id(session, source_name)
    add_deployments(session, platform, deployment_ids or [])
    platform.status = "active"
    return platform


def add_deployments(session: Session, platform: models.Platform, deployment_ids: list[str]) -> None:
    """Add deployments the platform does not have yet (Canvas makes one per installation)."""
    for deployment_id in dict.fromkeys(d.strip() for d in deployment_ids):
        if not has_deployment(session, platform.id, deployment_id):
            add_deployment(session, platform, deployment_id)


def _source_id(session: Session, source_name: str) -> int:
    source = session.scalar(select(models.Source).where(models.Source.name == source_name))
    if source is None:
        raise PlatformError(f"no event source named {source_name!r}")
    return source.identity_id


CANVAS_CLOUD = "instructure.com"


def frame_origins(session: Session) -> list[str]:
    """Origins allowed to frame the tool's pages: those of every active platform (a pending dynamic
    registration, which anyone can start, adds none).

    Canvas Cloud's issuer (canvas.instructure.com) is not the school's host (school.instructure.com),
    so a Canvas Cloud issuer allows ``https://*.instructure.com``.
    """
    origins: set[str] = set()
    for platform in session.scalars(select(models.Platform).where(models.Platform.status == "active")):
        for url in (platform.issuer, platform.auth_login_url):
            parts = urlsplit(url)
            if parts.scheme and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
        host = urlsplit(platform.issuer).hostname or ""
        if host == CANVAS_CLOUD or host.endswith("." + CANVAS_CLOUD):
            origins.add(f"https://*.{CANVAS_CLOUD}")
    return sorted(origins)


def describe(session: Session, platform: models.Platform) -> dict[str, Any]:
    deployments = session.scalars(select(models.Deployment.deployment_id).where(
        models.Deployment.platform_id == platform.id).order_by(models.Deployment.id))
    source = session.get(models.Source, platform.source_id) if platform.source_id else None
    return {
        "id": platform.id, "name": platform.name, "issuer": platform.issuer,
        "client_id": platform.client_id, "deployment_ids": list(deployments),
        "auth_login_url": platform.auth_login_url, "auth_token_url": platform.auth_token_url,
        "key_set_url": platform.key_set_url, "source": source.name if source else None,
        "status": platform.status,
    }


def list_platforms(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(models.Platform).order_by(models.Platform.id))
    return [describe(session, p) for p in rows]
