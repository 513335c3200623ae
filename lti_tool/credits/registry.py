"""Finding the provider plugins and applying the deployment's overrides, once at start-up.

Plugins are the classes named by the entry points of the group ``lti_tool.credit_rules``; the
built-in ones are registered the same way (``plugins/pyproject.toml``), so a plugin installed from
anywhere is found like them.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from datetime import UTC, tzinfo
from importlib.metadata import entry_points
from pathlib import Path

from lti_tool.credits.rule import CreditRule
from lti_tool.credits.settings import RuleSettingsError, with_overrides

log = logging.getLogger(__name__)

GROUP = "lti_tool.credit_rules"

__all__ = ["GROUP", "PluginError", "Rulebook", "RuleSettingsError", "UnknownCredential",
           "discover_rules", "load_rulebook"]


class UnknownCredential(LookupError):
    def __init__(self, credential: str, known: list[str]) -> None:
        super().__init__(f"unknown credential {credential!r} (known: {', '.join(known)})")
        self.credential = credential


class PluginError(RuleSettingsError):
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
    found: dict[str, type[CreditRule]] = {}
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        try:
            cls = point.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin stops start-up with its name
            raise PluginError(f"plugin {point.name!r} ({point.value}) does not load: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, CreditRule)):
            raise PluginError(f"plugin {point.name!r} ({point.value}) is not a CreditRule subclass")
        missing = [a for a in CreditRule.REQUIRED_ATTRIBUTES if not hasattr(cls, a)]
        if missing or getattr(cls, "__abstractmethods__", None):
            lacks = missing + sorted(getattr(cls, "__abstractmethods__", ()))
            raise PluginError(f"plugin {point.name!r} lacks {', '.join(lacks)}")
        if cls.credential != point.name:
            raise PluginError(f"plugin {point.name!r} names credential {cls.credential!r}; they must match")
        if cls.credential in found:
            raise PluginError(f"two plugins claim credential {cls.credential!r}")
        found[cls.credential] = cls
    return found


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
