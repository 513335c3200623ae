"""Fixtures for the lifecycle tests: settings with reminders on, sent through an ``smtp``
destination on a free port of 127.0.0.1 where a test may start a real aiosmtpd server."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.settings import Settings, load_settings
from tests.conftest import DEMO_EXPORTS, REPO, clean_database
from tests.exports.receivers import free_port

PUBLIC_URL = "https://ce.example.org"


@pytest.fixture
def mail_port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, mail_port: int) -> Settings:
    clean_database(database_url)
    exports = tmp_path / "exports.toml"
    exports.write_text(DEMO_EXPORTS.read_text() + f"""
[destinations.reminder-mail]
type = "smtp"
host = "127.0.0.1"
port = {mail_port}
from = "ce@example.org"
to = "ce-office@example.org"
timeout_seconds = 2
""")
    return load_settings(
        database_url=database_url, instance_dir=tmp_path / "instance", config_dir=REPO / "config",
        exports_path=exports, lti={"public_url": PUBLIC_URL},
        reminders={"enabled": True, "destination": "reminder-mail", "sender": "Renewals <renewals@example.org>"},
    )
