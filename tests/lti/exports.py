"""Helpers for export status on the LTI pages: settings whose exports go by SMTP to a closed port on
127.0.0.1 (a real refused connection) with one attempt allowed, so one tick leaves dead batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lti_tool.runtime import Runtime
from lti_tool.services.exporting import run_export_tick
from lti_tool.settings import Settings, load_settings
from tests.conftest import REPO, clean_database
from tests.exports.receivers import free_port

DEAD_LETTER = """
[delivery]
max_attempts = 1
[defaults]
exporter = "claims-csv"
requires = []
destination = "mail"
[destinations.mail]
type = "smtp"
host = "127.0.0.1"
port = {port}
from = "cme@example.org"
to = "body@example.org"
timeout_seconds = 2
"""


def dead_letter_settings(database_url: str, tmp_path: Path, extra: str = "") -> Settings:
    """The test settings with that exports file (plus ``extra`` TOML tables)."""
    clean_database(database_url)
    path = tmp_path / "exports.toml"
    path.write_text(DEAD_LETTER.format(port=free_port()) + extra)
    return load_settings(database_url=database_url, instance_dir=tmp_path / "instance",
                         config_dir=REPO / "config", exports_path=path)


def export_tick(runtime: Runtime) -> dict[str, Any]:
    """One real export tick (batches formed, delivered or dead-lettered)."""
    return run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports).as_dict()
