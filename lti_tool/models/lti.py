"""LTI 1.3: platform registrations, their deployments, the tool's keys, and launch state.

Everything a launch needs lives here, in the database, so any web worker can serve any step of a
launch (login on one worker, launch on another, the next page on a third).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow


class Platform(Base):
    """An LMS registration, keyed by (issuer, client_id).

    Canvas uses one issuer (https://canvas.instructure.com, or its beta/test issuers) for every
    customer, so the issuer alone does not name a platform. ``source_id`` is the event source whose
    learner ids this platform's launches share. ``status`` is ``active`` or ``pending`` (a dynamic
    registration awaiting an administrator's approval); pending platforms cannot launch.
    """

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(2000))
    auth_token_url: Mapped[str] = mapped_column(String(2000))
    key_set_url: Mapped[str] = mapped_column(String(2000))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Deployment(Base):
    """A deployment of the tool on a platform; every launch must name a known one."""

    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ToolKey(Base):
    """An RSA key pair of the tool. Published from creation, signs from ``activates_at``,
    published until ``retired_at``."""

    __tablename__ = "lti_tool_keys"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    activates_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UsedNonce(Base):
    """A nonce some launch consumed; the unique key makes a replay fail on any worker. A login's
    state has exactly one nonce, so this row also ends the state (:mod:`lti_tool.lti.login_state`)."""

    __tablename__ = "lti_used_nonces"
    __table_args__ = (UniqueConstraint("platform_id", "nonce"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    nonce: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class LaunchSession(Base):
    """A validated launch: who, where, with which rights. The browser holds only its random id."""

    __tablename__ = "lti_launch_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    launch_id: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str | None] = mapped_column(String(255))
    lms_user_id: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AppSecret(Base):
    """Secrets every web worker must share (the session-signing key), made once."""

    __tablename__ = "lti_app_secrets"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[str] = mapped_column(String(255))


class AuditEntry(Base):
    """Who changed what through the LTI pages (course mappings), with the before and after."""

    __tablename__ = "lti_audit_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    lms_user_id: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(2000))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
