"""The spine's command line: sources, mappings, awards and export, with their JSON contracts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from flask.testing import FlaskClient

from tests.spine import fixture_bytes, import_mapping, mapping_toml


def test_sources_add_prints_url_and_secret_once(cli_json: Callable[..., Any]) -> None:
    created = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    assert set(created) == {"id", "kind", "name", "url", "secret"}
    assert created["url"].startswith("/events/moodle/") and len(created["url"]) > 50
    listed = cli_json("sources", "list")
    assert [(s["id"], s["kind"], s["name"]) for s in listed] == [(created["id"], "moodle", "moodle-prod")]
    assert created["secret"] not in json.dumps(listed)


def test_sources_add_refuses_a_duplicate_name(cli: Callable[..., Result]) -> None:
    cli("sources", "add", "--kind", "canvas", "--name", "same")
    result = cli("sources", "add", "--kind", "canvas", "--name", "same", expect=2)
    assert "exists already" in result.output


def test_mappings_import_rejects_unknown_fields_naming_them(
    cli: Callable[..., Result], cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    path = tmp_path / "bad.toml"
    path.write_text(mapping_toml(source="c", course="1", minutes=60, credentials=["acmss-cmss"], colour="red"))
    result = cli("mappings", "import", str(path), expect=2)
    assert "mapping #1" in result.output and "colour" in result.output


def test_mappings_import_rejects_an_unknown_credential(
    cli: Callable[..., Result], cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    path = tmp_path / "bad.toml"
    path.write_text(mapping_toml(source="c", course="1", minutes=60, credentials=["no-such-credential"]))
    result = cli("mappings", "import", str(path), expect=2)
    assert "no-such-credential" in result.output


def test_mappings_list_shows_imported_facts(cli_json: Callable[..., Any], tmp_path: Path) -> None:
    cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    import_mapping(cli_json, tmp_path, source="c", course="9", minutes=50, activity="education",
                   category="clinical", approved_by=["aama"], credentials=["aama-cma"])
    [mapping] = cli_json("mappings", "list")
    assert (mapping["course"], mapping["minutes"], mapping["category"], mapping["approved_by"]) == (
        "9", 50, "clinical", ["AAMA"])


def test_example_mappings_file_imports(cli_json: Callable[..., Any]) -> None:
    cli_json("sources", "add", "--kind", "canvas", "--name", "demo-canvas")
    cli_json("sources", "add", "--kind", "moodle", "--name", "demo-moodle")
    example = Path(__file__).resolve().parents[2] / "config" / "mappings.example.toml"
    assert cli_json("mappings", "import", str(example))["created"] == 2


def test_awards_list_filters_and_export_run_reports(
    client: FlaskClient, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    import_mapping(cli_json, tmp_path, source="c", course="565", minutes=60, credentials=["acmss-cmss"])
    client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json"))
    [award] = cli_json("awards", "list", "--source", str(canvas["id"]), "--user", "123", "--course", "565")
    assert {"credential", "amount", "unit", "course", "learner", "completed_at", "rule_version"} <= set(award)
    assert award["completed_at"].startswith("2019-11-05T13:38:00")
    assert cli_json("awards", "list", "--user", "nobody") == []
    report = cli_json("export", "run")
    assert [d["claims"] for d in report["delivered"]] == [1]
    assert cli_json("export", "run") == {"delivered": [], "failed": []}


def test_revoking_an_unknown_award_is_a_usage_error(cli: Callable[..., Result]) -> None:
    assert "no award" in cli("awards", "revoke", "999", "--reason", "x", expect=2).output
