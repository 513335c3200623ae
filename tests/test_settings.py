"""Settings come from config/settings.toml and the environment; a bad one stops start-up clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.settings import SettingsError, load_settings


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("[server]\nport = 8100\n")
    monkeypatch.setenv("LTI_TOOL_CONFIG_DIR", str(tmp_path))
    assert load_settings().server.port == 8100
    monkeypatch.setenv("LTI_TOOL_SERVER__PORT", "9100")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1/db")
    settings = load_settings()
    assert settings.server.port == 9100
    assert settings.effective_database_url == "postgresql+psycopg://u:p@127.0.0.1/db"


def test_empty_database_url_means_sqlite_in_the_instance_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LTI_TOOL_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = load_settings(instance_dir=tmp_path / "inst").effective_database_url
    assert url == f"sqlite:///{tmp_path / 'inst' / 'lti_tool.sqlite3'}"


def test_invalid_setting_names_file_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("[server]\nport = 'eighty'\n")
    monkeypatch.setenv("LTI_TOOL_CONFIG_DIR", str(tmp_path))
    with pytest.raises(SettingsError, match=r"settings\.toml.*server\.port"):
        load_settings()


def test_unknown_setting_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("databse_url = 'typo'\n")
    monkeypatch.setenv("LTI_TOOL_CONFIG_DIR", str(tmp_path))
    with pytest.raises(SettingsError, match="databse_url"):
        load_settings()
