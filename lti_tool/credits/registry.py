"""Finding the provider plugins and applying the deployment's overrides, once at start-up.

Plugins are the classes named by the entry points of the group ``lti_tool.credit_rules``; the
built-in ones are registered the same way (``plugins/pyproject.toml``), so a plugin installed from
anywhere is found like them. They are loaded by :func:`lti_tool.entry_points.load_plugins`, as
exporters and destinations are; a rule's own checks (its attributes, and that its settings have
every value its cycle needs) are :func:`rule_problems`.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from collections.abc import Iterator
from datetime import UTC, tzinfo
from pathlib import Path

from lti_tool.credits.rule import CreditRule, FixedCycleSettings
from lti_tool.credits.settings import RuleSettingsError, with_overrides
from lti_tool.entry_points import PluginLoadError, load_plugins

log = logging.getLogger(__name__)

GROUP = "lti_tool.credit_rules"

__all__ = ["GROUP", "PluginError", "Rulebook", "RuleSettingsError", "UnknownCredential",
           "discover_rules", "load_rulebook"]


class UnknownCredential(LookupError):
    def __init__(self, credential: str, known: list[str]) -> None:
        super().__init__(f"unknown credential {credential!r} (known: {', '.join(known)})")
        self.credential = credential


class PluginError(RuleSettingsError, PluginLoadError):
    """A plugin cannot be loaded: it does not import, is no rule, or repeats a credential id."""


class Rulebook:
    """The credit rules of this deployment, one per credential id."""

    def __init__(self, rules: dict[str, CreditRule], zone: tzinfo = UTC) -> None:
        self._rules = dict(sorted(rules.items()))
        self.zone = zone
        """The calendar that dates credit (the deployment's ``time_zone``): a completion's day
        decides its cycle."""

    def get(self, credential: str) -> CreditRule:
        try:
            return self._rules[credential]
        except KeyError:
            raise UnknownCredential(credential, list(self._rules)) from None

    def __iter__(self) -> Iterator[CreditRule]:
        return iter(self._rules.values())

    def __contains__(self, credential: object) -> bool:
        return credential in self._rules

    @property
    def credentials(self) -> list[str]:
        return list(self._rules)


def discover_rules() -> dict[str, type[CreditRule]]:
    """Every rule class the entry points name, by credential id."""
    return load_plugins(GROUP, CreditRule,  # type: ignore[type-abstract]  # only subclasses are loaded
                        "credential", error=PluginError, check=rule_problems)


def rule_problems(_name: str, cls: type[CreditRule]) -> list[str]:
    """What keeps a rule class from working: attributes it lacks, methods it leaves abstract, and a
    fixed cycle without a :class:`~lti_tool.credits.rule.FixedCycleSettings` whose
    ``cycle_first_start`` has a value (found now, not at the first learner's progress)."""
    lacks = [a for a in CreditRule.REQUIRED_ATTRIBUTES if not hasattr(cls, a)]
    lacks += sorted(getattr(cls, "__abstractmethods__", ()))
    if lacks:
        return [f"lacks {', '.join(lacks)}"]
    if cls.cycle_kind == "fixed":
        if not (isinstance(cls.settings_class, type) and issubclass(cls.settings_class, FixedCycleSettings)):
            return ["a fixed cycle needs settings_class to be a FixedCycleSettings (with cycle_first_start)"]
        unset = [f.name for f in dataclasses.fields(cls.settings_class)
                 if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if unset:
            return [f"settings_class {cls.settings_class.__name__} gives no default for {', '.join(unset)}"]
    return []


def load_rulebook(overrides_file: Path | None = None, zone: tzinfo = UTC) -> Rulebook:
    """The discovered rules with the overrides of ``overrides_file`` (``config/credit_rules.toml``)."""
    classes = discover_rules()
    overrides: dict[str, object] = {}
    if overrides_file is not None:
        try:
            overrides = tomllib.loads(overrides_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RuleSettingsError(f"{overrides_file}: {exc}") from None
    unknown = sorted(set(overrides) - set(classes))
    if unknown:
        raise RuleSettingsError(
            f"{overrides_file}: unknown credential {unknown[0]!r} (known: {', '.join(sorted(classes))})"
        )
    rules: dict[str, CreditRule] = {}
    for credential, cls in classes.items():
        settings = cls.settings_class()
        table = overrides.get(credential)
        if table is not None:
            if not isinstance(table, dict):
                raise RuleSettingsError(f"{overrides_file}: [{credential}] must be a table")
            settings = with_overrides(settings, table, f"{overrides_file}: [{credential}]")
        rules[credential] = cls(settings)
    log.debug("credit rules: %s", ", ".join(rules))
    return Rulebook(rules, zone)
