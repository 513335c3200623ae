"""``config/exports.toml``: which exporter, destination and schedule each credential's claims take.

Read and checked once at start-up against the discovered plugins; a mistake stops start-up with a
message naming the file and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lti_tool.exports.base import Destination, Exporter
from lti_tool.exports.discovery import ExportPlugins
from lti_tool.settings import SettingsError

Requirement = Literal["number", "consent"]

DEFAULT_EXPORTER = "claims-csv"
"""The exporter of a credential whose table, ``[defaults]`` and plugin name none."""
DEFAULT_DESTINATION = "directory"
"""The destination of a credential whose table and ``[defaults]`` name none (always configured)."""


NAME_LIMIT = 64
"""The longest destination or exporter name: batches and attempts store it (``export_batches``'
``destination`` and ``exporter``, ``export_attempts``' ``destination``; PostgreSQL refuses a longer
one at the insert, SQLite would store it whole), so a longer one is refused at load."""


class ExportConfigError(SettingsError):
    """``config/exports.toml`` is invalid; the message names the file and the key."""


def _cron(value: str) -> str:
    CronTrigger.from_crontab(value, timezone="UTC")
    return value


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cron: str

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        return _cron(value)


class Jobs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    export: Job = Job(cron="* * * * *")
    reprocess: Job = Job(cron="* * * * *")
    reminders: Job = Job(cron="0 * * * *")
    """Renewal reminders (only when ``reminders.enabled`` in settings.toml)."""
    reconcile: Job = Job(cron="*/30 * * * *")
    reconcile_requests: Job = Job(cron="* * * * *")


class Binding(BaseModel):
    """How one credential's claims are exported (every key optional: ``[defaults]`` fills in)."""

    model_config = ConfigDict(extra="forbid")
    exporter: str | None = Field(None, max_length=NAME_LIMIT)
    destination: str | None = Field(None, max_length=NAME_LIMIT)
    cron: str | None = None
    """Its own schedule; without one the credential goes with ``[jobs.export]``."""
    deadline_days: int | None = Field(None, ge=1)
    """The body's reporting deadline: days after completion."""
    requires: list[Requirement] | None = None
    """What a learner must have before a claim is sent: ``number`` (member/licence), ``consent``."""

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        return None if value is None else _cron(value)


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_attempts: int = Field(12, ge=1)
    """After this many failed attempts a batch goes to the dead letter."""
    max_claims_per_batch: int = Field(200, ge=1)
    """A larger backlog of one credential is split into several batches (oldest completions first)."""


class ExportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jobs: Jobs = Jobs()
    delivery: Delivery = Delivery()
    defaults: Binding = Binding()
    credentials: dict[str, Binding] = {}
    destinations: dict[str, dict[str, Any]] = {}

    def binding(self, credential: str, rule: RuleDefaults | None = None) -> ResolvedBinding:
        """The credential's own table, else ``[defaults]``, else what its plugin declares
        (``rule``: export format and learner fields), else :data:`DEFAULT_EXPORTER` to
        :data:`DEFAULT_DESTINATION`: the one place these fall back."""
        own = self.credentials.get(credential, Binding())
        base = self.defaults
        if own.requires is not None:
            requires = own.requires
        elif base.requires is not None:
            requires = base.requires
        else:
            requires = list(rule.requires) if rule else []
        return ResolvedBinding(
            exporter=own.exporter or base.exporter or (rule.exporter if rule else None) or DEFAULT_EXPORTER,
            destination=own.destination or base.destination or DEFAULT_DESTINATION,
            cron=own.cron,
            deadline_days=own.deadline_days or base.deadline_days,
            requires=requires,
        )


@dataclass(frozen=True)
class ResolvedBinding:
    """How one credential's claims are exported, every choice made (:meth:`ExportConfig.binding`)."""

    exporter: str
    destination: str
    cron: str | None
    """Its own schedule; ``None``: with ``[jobs.export]``."""
    deadline_days: int | None
    requires: list[Requirement]


@dataclass(frozen=True)
class RuleDefaults:
    """What a credential's provider plugin declares for its claims: ``export_format`` and
    ``learner_fields`` (used where ``config/exports.toml`` says nothing)."""

    exporter: str
    requires: tuple[Requirement, ...]


class Exports:
    """The checked configuration with its exporter and destination instances."""

    def __init__(self, config: ExportConfig, exporters: dict[str, Exporter],
                 destinations: dict[str, Destination], rules: Mapping[str, RuleDefaults] | None = None):
        self.config = config
        self.exporters = exporters
        self.destinations = destinations
        self.rules = dict(rules or {})

    def binding(self, credential: str) -> ResolvedBinding:
        return self.config.binding(credential, self.rules.get(credential))

    def requires(self, credential: str) -> list[Requirement]:
        return list(self.binding(credential).requires)

    def deadline(self, credential: str) -> timedelta | None:
        days = self.binding(credential).deadline_days
        return None if days is None else timedelta(days=days)

    def exporter(self, credential: str) -> Exporter:
        return self.exporters[self.binding(credential).exporter]

    def destination_name(self, credential: str) -> str:
        return self.binding(credential).destination

    def destination(self, name: str) -> Destination:
        return self.destinations[name]


def load_export_config(path: Path) -> ExportConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        config = ExportConfig.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ExportConfigError(f"{path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ExportConfigError(f"{path}: {problems}") from None
    for name in config.destinations:
        if len(name) > NAME_LIMIT:
            raise ExportConfigError(f"{path}: destinations.{name}: a destination's name is at most "
                                    f"{NAME_LIMIT} characters (this one has {len(name)})")
    return config


def build_exports(path: Path, plugins: ExportPlugins, instance_dir: Path,
                  rules: Mapping[str, RuleDefaults] | None = None) -> Exports:
    """Read ``path`` and instantiate what it names; :class:`ExportConfigError` names file and key.

    ``rules``: per credential id, what its provider plugin declares; when given, a
    ``[credentials.<id>]`` table for a credential no plugin provides is refused (a typo would
    otherwise silently leave that credential on the defaults)."""
    config = load_export_config(path)
    destinations: dict[str, Destination] = {}
    tables = {DEFAULT_DESTINATION: {"type": "directory"}, **config.destinations}
    for name, table in tables.items():
        options = dict(table)
        kind = options.pop("type", None)
        if kind not in plugins.destinations:
            raise ExportConfigError(f"{path}: destinations.{name}.type: {kind!r} is not one of "
                                    f"{sorted(plugins.destinations)}")
        try:
            destinations[name] = plugins.destinations[kind](name, options, instance_dir)
        except ValueError as exc:
            raise ExportConfigError(f"{path}: destinations.{name}: {exc}") from None
    if rules is not None:
        unknown = sorted(set(config.credentials) - set(rules))
        if unknown:
            raise ExportConfigError(f"{path}: credentials.{unknown[0]}: no provider plugin for this "
                                    f"credential (known: {', '.join(sorted(rules))})")
    for where, binding in [("defaults", config.defaults),
                           *((f"credentials.{c}", b) for c, b in config.credentials.items())]:
        if binding.exporter and binding.exporter not in plugins.exporters:
            raise ExportConfigError(f"{path}: {where}.exporter: {binding.exporter!r} is not one of "
                                    f"{sorted(plugins.exporters)}")
        if binding.destination and binding.destination not in destinations:
            raise ExportConfigError(f"{path}: {where}.destination: {binding.destination!r} is not a "
                                    f"[destinations] table (have {sorted(destinations)})")
    for credential, rule in sorted((rules or {}).items()):
        chosen = config.binding(credential, rule).exporter
        if len(chosen) > NAME_LIMIT:  # a plugin's export format: the file's own names are checked at load
            raise ExportConfigError(f"{path}: credentials.{credential}.exporter: the plugin's export format "
                                    f"{chosen!r} is longer than {NAME_LIMIT} characters; name an exporter "
                                    "for this credential")
        if chosen not in plugins.exporters:
            raise ExportConfigError(f"{path}: credentials.{credential}.exporter: the plugin's export "
                                    f"format {chosen!r} is not one of {sorted(plugins.exporters)}; "
                                    "name an exporter for this credential")
    exporters = {name: cls() for name, cls in plugins.exporters.items()}
    return Exports(config, exporters, destinations, rules)


def rule_defaults(rules: Iterable[Any]) -> dict[str, RuleDefaults]:
    """:class:`RuleDefaults` from provider plugins (anything with ``credential``,
    ``export_format`` and ``learner_fields``); a learner field exports cannot check is refused."""
    found: dict[str, RuleDefaults] = {}
    for rule in rules:
        fields = tuple(rule.learner_fields)
        unknown = [f for f in fields if f not in get_args(Requirement)]
        if unknown:
            raise ExportConfigError(f"plugin {rule.credential!r}: learner_fields {unknown} are not "
                                    f"one of {list(get_args(Requirement))}")
        found[rule.credential] = RuleDefaults(rule.export_format, fields)
    return found
