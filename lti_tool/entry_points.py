"""The one loader of plugins: credit rules, exporters and destinations are classes named by entry
points, and each is checked the same way before the tool starts.

A plugin is found like the built-in ones (``plugins/pyproject.toml``, ``pyproject.toml``): an entry
point in the plugin kind's group, *named for the plugin's id* (a rule's ``credential``, an
exporter's or destination's ``identifier``), naming a subclass of the kind's base class. Anything
else stops start-up with a :class:`PluginLoadError` that names the entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TypeVar

T = TypeVar("T")

__all__ = ["PluginLoadError", "load_plugins"]


class PluginLoadError(ValueError):
    """A plugin cannot be loaded: it does not import, is not of its kind, misnames itself, or
    repeats another's id."""


def load_plugins(
    group: str, base: type[T], id_attribute: str, *, error: type[PluginLoadError] = PluginLoadError,
    check: Callable[[str, type[T]], list[str]] | None = None,
) -> dict[str, type[T]]:
    """Every class the entry points of ``group`` name, by id (``getattr(cls, id_attribute)``).

    ``check(name, cls)`` may add the kind's own problems (missing attributes, settings); each is
    raised as ``error``, naming the entry point."""
    found: dict[str, type[T]] = {}
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        where = f"plugin {point.name!r} ({group}: {point.value})"
        try:
            cls = point.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin stops start-up with its name
            raise error(f"{where} does not load: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise error(f"{where} is not a subclass of {base.__name__}")
        problems = check(point.name, cls) if check is not None else []
        if problems:
            raise error(f"{where}: {'; '.join(problems)}")
        identifier = getattr(cls, id_attribute, None)
        if identifier != point.name:
            raise error(f"plugin {point.name!r} names {id_attribute} {identifier!r}; they must match")
        if identifier in found:
            raise error(f"two plugins claim {id_attribute} {identifier!r}")
        found[identifier] = cls
    return found
