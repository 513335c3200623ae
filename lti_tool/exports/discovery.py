"""Finding exporters and destinations through entry points, once at start-up (by the one plugin
loader, :func:`lti_tool.entry_points.load_plugins`: each entry point is named for its class's
``identifier``)."""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.entry_points import load_plugins
from lti_tool.exports.base import Destination, Exporter

EXPORTERS_GROUP = "lti_tool.exporters"
DESTINATIONS_GROUP = "lti_tool.destinations"


@dataclass(frozen=True)
class ExportPlugins:
    exporters: dict[str, type[Exporter]]
    destinations: dict[str, type[Destination]]


def discover() -> ExportPlugins:
    # The bases are abstract; the loader returns their concrete subclasses.
    return ExportPlugins(load_plugins(EXPORTERS_GROUP, Exporter, "identifier"),  # type: ignore[type-abstract]
                         load_plugins(DESTINATIONS_GROUP, Destination, "identifier"))  # type: ignore[type-abstract]
