"""Settings: ``config/settings.toml`` overridden by the environment.

Environment variables are ``LTI_TOOL_<KEY>`` (nested keys joined by ``__``, e.g.
``LTI_TOOL_SERVER__PORT=9000``) and ``DATABASE_URL``. An invalid setting stops start-up with a message
naming the key, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the file and the key."""


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(0, ge=0, le=64)
    """0: one process on SQLite (its threads queue on the in-process write lock instead of sleeping
    in SQLite's busy handler), one per two cores on PostgreSQL."""
    threads: int = Field(8, ge=1, le=256)
    development: bool = False
    """A developer's machine: ``serve`` starts without ``lti.public_url`` (the tool's URLs then come
    from each request's Host header, which anyone can set). Off, ``serve`` refuses to start
    without an https ``lti.public_url``."""


class EventSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_body_bytes: int = Field(1_048_576, ge=1024)
    jwks_timeout_seconds: float = Field(5.0, gt=0, le=60)
    jwks_refetch_interval_seconds: float = Field(60.0, ge=0)


class ExportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retry_base_seconds: float = Field(60.0, gt=0)
    retry_max_seconds: float = Field(6 * 3600.0, gt=0)
    lease_seconds: float = Field(300.0, gt=0)


class ReconcileSettings(BaseModel):
    """Pulling completions from the LMSs' APIs (``lti-tool reconcile``, the ``reconcile`` job)."""

    model_config = ConfigDict(extra="forbid")

    deadline_seconds: float = Field(60.0, gt=0, le=600)
    max_response_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    look_back_hours: float = Field(72.0, ge=0)
    lease_seconds: float = Field(1800.0, gt=0)
    throttle_attempts: int = Field(5, ge=0, le=20)
    throttle_first_wait_seconds: float = Field(2.0, ge=0)
    throttle_max_wait_seconds: float = Field(60.0, ge=0)


class LtiSettings(BaseModel):
    """LTI 1.3 launches, tool keys and dynamic registration."""

    model_config = ConfigDict(extra="forbid")

    public_url: str = ""
    clock_leeway_seconds: int = Field(60, ge=0, le=300)
    max_token_age_seconds: int = Field(300, ge=30, le=3600)
    state_lifetime_seconds: int = Field(600, ge=60, le=3600)
    session_lifetime_seconds: int = Field(8 * 3600, ge=300)
    key_publish_ahead_seconds: int = Field(86400, ge=0)
    key_grace_seconds: int = Field(7 * 86400, ge=0)
    http_timeout_seconds: float = Field(10.0, gt=0, le=60)
    registration_requires_approval: bool = True
    registrations_at_once: Annotated[int, Field(ge=1, le=16)] = 2
    """Dynamic registrations running at once in a worker process; more are answered 503 at once."""
    registrations_per_minute: Annotated[int, Field(ge=1, le=1000)] = 10
    """``/lti/register`` requests per client address and minute (then 429)."""
    proxy_hops: int = Field(0, ge=0, le=5)


class CertificateSettings(BaseModel):
    """Who issues certificates and signed credentials, and how often anyone may check one."""

    model_config = ConfigDict(extra="forbid")

    issuer_name: str = Field(default="lti-tool", min_length=1, max_length=200)
    issuer_url: str = Field(default="", max_length=500)
    """The issuing organisation's web site, shown on ``/verify`` pages and in the issuer profile."""
    verify_rate_limit: str = Field(default="30 per minute", min_length=1)
    """Requests per client address to ``/verify/<code>`` (Flask-Limiter syntax)."""


class ReminderSettings(BaseModel):
    """Renewal reminder e-mails (the scheduler's ``reminders`` tick)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    offsets_days: list[int] = Field(default_factory=lambda: [90, 30, 7])
    destination: str = ""
    """An ``smtp`` destination of ``config/exports.toml`` (its host, port, credentials and ``from``)."""
    sender: str = ""
    """The ``From`` of reminders; empty: the destination's ``from``."""
    max_attempts: int = Field(default=8, ge=1, le=100)

    @field_validator("offsets_days")
    @classmethod
    def _positive_offsets(cls, value: list[int]) -> list[int]:
        if not value or any(day < 1 or day > 3660 for day in value):
            raise ValueError("offsets are whole days before a cycle's end, between 1 and 3660")
        return sorted(set(value), reverse=True)


class BenchSettings(BaseModel):
    """Routes that exist only for the benchmarks in ``bench/``; all off unless a benchmark turns them on."""

    model_config = ConfigDict(extra="forbid")

    durable_insert_route: bool = False
    """``POST /bench/durable-insert``: the ingest benchmark's ceiling (:mod:`lti_tool.web.durable_insert`)."""


class OutboundSettings(BaseModel):
    """Calls to other systems (:mod:`lti_tool.outbound`)."""

    model_config = ConfigDict(extra="forbid")

    allow_private_addresses: bool = False
    """Development and tests only: let the tool call loopback, private and link-local addresses,
    and plain http. Off, those are refused after DNS resolution and on every redirect."""


class Settings(BaseSettings):
    """Every setting of the tool, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="LTI_TOOL_", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    config_dir: Path = Path("config")
    instance_dir: Path = Path("instance")
    database_url: str = Field(
        "",
        validation_alias=AliasChoices("DATABASE_URL", "LTI_TOOL_DATABASE_URL", "database_url"),
        description="Empty: SQLite in instance_dir.",
    )
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    exports_path: Path | None = Field(
        None, description="Another exports configuration than config_dir/exports.toml (the demo's).")
    time_zone: str = Field("UTC", description="IANA zone whose calendar dates credit and cycles.")
    server: ServerSettings = ServerSettings()
    events: EventSettings = EventSettings()
    exports: ExportSettings = ExportSettings()
    lti: LtiSettings = LtiSettings()
    certificates: CertificateSettings = CertificateSettings()
    reminders: ReminderSettings = ReminderSettings()
    bench: BenchSettings = BenchSettings()
    outbound: OutboundSettings = OutboundSettings()
    reconcile: ReconcileSettings = ReconcileSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # settings.toml is read from the config_dir given (load_settings(config_dir=X)), else from
        # LTI_TOOL_CONFIG_DIR, like credit_rules.toml and exports.toml (properties below).
        given = getattr(init_settings, "init_kwargs", {}).get("config_dir")
        toml_file = Path(given or _config_dir()) / "settings.toml"
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file))

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as America/Chicago") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance_dir / 'lti_tool.sqlite3').resolve()}"

    @property
    def exports_dir(self) -> Path:
        return self.instance_dir / "exports"

    @property
    def credit_rules_file(self) -> Path:
        return self.config_dir / "credit_rules.toml"

    @property
    def exports_file(self) -> Path:
        return self.exports_path or self.config_dir / "exports.toml"


def _config_dir() -> Path:
    return Path(os.environ.get("LTI_TOOL_CONFIG_DIR", "config"))


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; raise :class:`SettingsError` naming the offending key.

    ``config_dir=X`` reads all three files from X: ``settings.toml``, ``credit_rules.toml`` and
    ``exports.toml`` (unless ``exports_path`` names another)."""
    overrides.setdefault("config_dir", _config_dir())
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(
            f"invalid setting in {Path(overrides['config_dir']) / 'settings.toml'} or the environment: {problems}"
        ) from None
