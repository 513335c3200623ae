"""One loader for credit rules, exporters and destinations: load errors are wrapped and name the entry
point, names are checked for all three, a fixed-cycle rule must have its first cycle's start."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from lti_tool.credits.registry import GROUP, discover_rules
from lti_tool.exports.discovery import DESTINATIONS_GROUP, EXPORTERS_GROUP

PLUGINS = Path(__file__).resolve().parents[2] / "plugins" / "lti_tool_plugins"


def installed(tmp_path: Path, module: str, source: str, group: str, entry: str) -> str:
    """Start-up (rules and export plugins) with one more distribution installed; its stderr."""
    (tmp_path / f"{module}.py").write_text(source)
    info = tmp_path / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry}\n")
    code = ("from lti_tool.credits.registry import load_rulebook; from lti_tool.exports.discovery import discover;"
            "load_rulebook(); discover()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode != 0, "start-up accepted the plugin"
    return out.stderr


FIXED_RULE = (
    "from dataclasses import dataclass\n"
    "from lti_tool.credits.api import HourlyRule, HourlySettings, FixedCycleHourlySettings\n"
    "class Base(HourlyRule):\n"
    "    credential = 'acme-fixed'\n    body = 'ACME'\n    title = 'ACME'\n    unit = 'points'\n"
    "    rule_version = 'acme-1'\n    source = 'acme.example'\n    cycle_kind = 'fixed'\n"
    "    interpretations = ('one point an hour',)\n"
    "class NoFirstStart(Base):\n    settings_class = HourlySettings\n"
    "@dataclass(frozen=True)\nclass Unset(FixedCycleHourlySettings):\n    pass\n"
    "class NoDefault(Base):\n    settings_class = Unset\n"
)


def test_a_fixed_cycle_rule_without_fixed_cycle_settings_is_refused_at_discovery(tmp_path: Path) -> None:
    stderr = installed(tmp_path, "acme_fixed", FIXED_RULE, GROUP, "acme-fixed = acme_fixed:NoFirstStart")
    assert "plugin 'acme-fixed'" in stderr and "FixedCycleSettings" in stderr


def test_a_fixed_cycle_rule_whose_settings_give_no_first_start_is_refused_at_discovery(tmp_path: Path) -> None:
    stderr = installed(tmp_path, "acme_fixed", FIXED_RULE, GROUP, "acme-fixed = acme_fixed:NoDefault")
    assert "gives no default for cycle_first_start" in stderr


def test_a_rule_plugin_that_does_not_import_is_named(tmp_path: Path) -> None:
    stderr = installed(tmp_path, "acme_broken", "raise RuntimeError('boom')\n", GROUP, "acme-x = acme_broken:Rule")
    assert "plugin 'acme-x'" in stderr and "does not load: boom" in stderr


@pytest.mark.parametrize("group", [EXPORTERS_GROUP, DESTINATIONS_GROUP])
def test_an_export_plugin_that_does_not_import_is_named(tmp_path: Path, group: str) -> None:
    stderr = installed(tmp_path, "acme_broken", "raise RuntimeError('boom')\n", group, "acme = acme_broken:X")
    assert "PluginLoadError" in stderr and "plugin 'acme'" in stderr and "does not load: boom" in stderr


@pytest.mark.parametrize(("group", "base"), [(EXPORTERS_GROUP, "ClaimsCsvExporter"),
                                             (DESTINATIONS_GROUP, "DirectoryDestination")])
def test_an_export_plugin_named_other_than_its_identifier_is_refused(tmp_path: Path, group: str, base: str) -> None:
    module = "claims_csv" if "Exporter" in base else "directory"
    source = f"from lti_tool.exports.{module} import {base}\nclass Other({base}):\n    pass\n"
    stderr = installed(tmp_path, "acme_export", source, group, "acme-format = acme_export:Other")
    assert "plugin 'acme-format' names identifier" in stderr and "they must match" in stderr


def test_an_export_plugin_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    stderr = installed(tmp_path, "acme_export", "class Thing:\n    identifier = 'thing'\n", EXPORTERS_GROUP,
                       "thing = acme_export:Thing")
    assert "is not a subclass of Exporter" in stderr


@pytest.mark.parametrize("module", sorted({cls.__module__ for cls in discover_rules().values()}))
def test_a_built_in_plugin_imports_only_the_plugin_api_from_the_tool(module: str) -> None:
    path = PLUGINS / module.split(".")[1] / "__init__.py"
    imported = {node.module for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert {m for m in imported if m.split(".")[0] == "lti_tool"} <= {"lti_tool.credits.api"}
