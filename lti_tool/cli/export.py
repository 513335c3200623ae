"""``lti-tool export``: run an export tick now."""

from __future__ import annotations

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.runtime import Runtime
from lti_tool.services.exporting import run_export_tick


@click.group()
def export() -> None:
    """Claims to the certifying bodies."""


@export.command("run")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def run(rt: Runtime, as_json: bool) -> None:
    """Run one export tick now and print what it delivered."""
    report = run_export_tick(rt.sessions, rt.settings.exports_dir, rt.settings.exports)
    emit(report.as_dict(), as_json)
    if report.failed:
        raise SystemExit(1)
