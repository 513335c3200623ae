"""A rule's numbers (steps, rounding, minimums, cycles, requirements) and their overrides.

Each rule declares its numbers as a frozen dataclass of :class:`RuleSettings` with the body's
published values as defaults. A deployment overrides them in ``config/credit_rules.toml``::

    [acmss-cmss]
    required_total = 4

Values are checked against the field's type (int, Decimal, str, bool, date), must not be negative,
and must pass the settings' own :meth:`RuleSettings.problems`; anything else is a
:class:`RuleSettingsError` naming the file, the credential and the key.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

S = TypeVar("S", bound="RuleSettings")


class RuleSettingsError(ValueError):
    """An override of a rule's settings is invalid; the message names file, credential and key."""


@dataclasses.dataclass(frozen=True)
class RuleSettings:
    """Base of every rule's settings. Subclasses add fields with defaults."""

    def problems(self) -> list[str]:
        """What is wrong with these values as a whole, as ``"key: why"`` lines (none by default)."""
        return []


def snapshot(settings: RuleSettings) -> dict[str, str]:
    """The effective settings as text, kept with every award they computed."""
    return {f.name: _text(getattr(settings, f.name)) for f in dataclasses.fields(settings)}


def with_overrides(settings: S, overrides: dict[str, Any], where: str) -> S:
    """``settings`` with the TOML ``overrides`` applied; ``where`` names file and credential."""
    types = typing.get_type_hints(type(settings))
    names = {f.name for f in dataclasses.fields(settings)}
    values: dict[str, Any] = {}
    for key, raw in overrides.items():
        if key not in names:
            known = ", ".join(sorted(names))
            raise RuleSettingsError(f"{where}: unknown key {key!r} (known keys: {known})")
        try:
            values[key] = _coerce(raw, types[key])
        except ValueError as exc:
            raise RuleSettingsError(f"{where}: {key}: {exc}") from None
    updated = dataclasses.replace(settings, **values)
    for problem in updated.problems():
        raise RuleSettingsError(f"{where}: {problem}")
    return updated


def _coerce(raw: Any, kind: Any) -> Any:
    if kind is bool:
        if not isinstance(raw, bool):
            raise ValueError(f"{raw!r} is not true or false")
        return raw
    if kind is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"{raw!r} is not a whole number")
        if raw < 0:
            raise ValueError(f"{raw} is negative")
        return raw
    if kind is Decimal:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise ValueError(f"{raw!r} is not a number")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError(f"{raw!r} is not a number") from None
        if not value.is_finite() or value < 0:
            raise ValueError(f"{raw!r} is not a number of zero or more")
        return value
    if kind is date:
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from None
    if kind is str:
        if not isinstance(raw, str):
            raise ValueError(f"{raw!r} is not text")
        return raw
    raise ValueError(f"settings of type {kind!r} cannot be overridden")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
