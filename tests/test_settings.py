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


def test_the_shipped_exports_config_requires_what_each_body_declares_and_the_demo_file_does_not() -> None:
    from lti_tool.credits.registry import load_rulebook
    from lti_tool.exports.config import build_exports, rule_defaults
    from lti_tool.exports.discovery import discover

    config = Path(__file__).resolve().parents[1] / "config"
    rules = load_rulebook()
    defaults = rule_defaults(rules)
    shipped = build_exports(config / "exports.toml", discover(), Path("instance"), defaults)
    demo = build_exports(config / "exports.demo.toml", discover(), Path("instance"), defaults)
    for rule in rules:
        assert shipped.requires(rule.credential) == list(rule.learner_fields), rule.credential
        assert shipped.binding(rule.credential).exporter == rule.export_format, rule.credential
        assert demo.requires(rule.credential) == []
    assert shipped.requires("acmss-cmss") == ["number"]


def test_config_dir_given_to_load_settings_is_where_all_three_files_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from lti_tool.credits.registry import load_rulebook
    from lti_tool.exports.config import build_exports, rule_defaults
    from lti_tool.exports.discovery import discover

    monkeypatch.delenv("LTI_TOOL_CONFIG_DIR", raising=False)
    monkeypatch.delenv("LTI_TOOL_EXPORTS_PATH", raising=False)
    monkeypatch.delenv("LTI_TOOL_SERVER__PORT", raising=False)
    (tmp_path / "settings.toml").write_text("[server]\nport = 8123\n")
    (tmp_path / "credit_rules.toml").write_text("[acmss-cmss]\nrequired_total = 4\n")
    (tmp_path / "exports.toml").write_text('[credentials.acmss-cmss]\nexporter = "statement"\n')
    settings = load_settings(config_dir=tmp_path)
    assert settings.server.port == 8123
    rules = load_rulebook(settings.credit_rules_file)
    assert rules.get("acmss-cmss").settings_snapshot()["required_total"] == "4"
    exports = build_exports(settings.exports_file, discover(), tmp_path, rule_defaults(rules))
    assert exports.binding("acmss-cmss").exporter == "statement"


def test_an_invalid_setting_names_the_file_of_the_given_config_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LTI_TOOL_CONFIG_DIR", raising=False)
    (tmp_path / "settings.toml").write_text("[server]\nport = 'eighty'\n")
    with pytest.raises(SettingsError, match=str(tmp_path / "settings.toml")):
        load_settings(config_dir=tmp_path)
