"""Finding exporters and destinations through entry points, once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from lti_tool.exports.base import Destination, Exporter

EXPORTERS_GROUP = "lti_tool.exporters"
DESTINATIONS_GROUP = "lti_tool.destinations"


@dataclass(frozen=True)
class ExportPlugins:
    exporters: dict[str, type[Exporter]]
    destinations: dict[str, type[Destination]]


def _load(group: str, base: type) -> dict[str, type]:
    found: dict[str, type] = {}
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        cls = point.load()
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise TypeError(f"entry point {group}:{point.name} is not a {base.__name__} subclass")
        if cls.identifier in found:
            raise ValueError(f"two {group} plugins claim the identifier {cls.identifier!r}")
        found[cls.identifier] = cls
    return found


def discover() -> ExportPlugins:
    return ExportPlugins(_load(EXPORTERS_GROUP, Exporter), _load(DESTINATIONS_GROUP, Destination))
