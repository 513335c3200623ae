"""``credits convert``, ``plugins list`` and ``learners progress``: their JSON contracts and errors."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask.testing import FlaskClient

from lti_tool.credits.registry import discover_rules
from lti_tool.settings import Settings
from tests.spine import fixture_bytes, import_mapping

CONVERT_KEYS = {"credential", "amount", "unit", "refused", "reason", "index_number", "rule_version", "category"}


def test_convert_prints_one_object_with_a_decimal_string(cli_json: Callable[..., Any]) -> None:
    result = cli_json("credits", "convert", "--credential", "acmss-cmss", "--minutes", "90")
    assert set(result) == CONVERT_KEYS
    assert (result["amount"], result["unit"], result["refused"], result["index_number"]) == (
        "1.5", "CME hours", False, "CMS06140729A")
    assert result["rule_version"] == "acmss-2026.1"


def test_convert_takes_the_activity_facts_as_options(cli_json: Callable[..., Any]) -> None:
    first = cli_json("credits", "convert", "--credential", "acmpe-cmpe", "--minutes", "60",
                     "--activity", "presentation", "--first-time")
    repeat = cli_json("credits", "convert", "--credential", "acmpe-cmpe", "--minutes", "60",
                      "--activity", "presentation", "--repeat")
    assert (first["amount"], repeat["amount"]) == ("2", "1")
    aama = cli_json("credits", "convert", "--credential", "aama-cma", "--minutes", "100", "--category",
                    "clinical", "--approved-by", "aama", "--approved-by", "PAHCOM", "--index-number", "77")
    assert (aama["amount"], aama["category"], aama["index_number"]) == ("2", "clinical", "77")
    distance = cli_json("credits", "convert", "--credential", "acmpe-cmpe", "--minutes", "60", "--activity",
                        "distance", "--pilot-minutes", "90", "--offers-interaction", "--structured")
    assert distance["amount"] == "1.5"
    college = cli_json("credits", "convert", "--credential", "acmpe-cmpe", "--minutes", "0", "--activity",
                       "college", "--hours", "12.5")
    assert college["amount"] == "12.5"
    cpr = cli_json("credits", "convert", "--credential", "aama-cma", "--minutes", "30", "--cpr-card")
    assert (cpr["amount"], cpr["category"]) == ("4", "clinical")


def test_convert_reports_a_refusal_with_its_reason(cli_json: Callable[..., Any]) -> None:
    result = cli_json("credits", "convert", "--credential", "acmpe-cmpe", "--minutes", "20",
                      "--activity", "presentation")
    assert (result["refused"], result["amount"], result["index_number"]) == (True, "0", None)
    assert "30 minutes" in result["reason"]


@pytest.mark.parametrize("args", [
    ("--credential", "acme-nope", "--minutes", "60"),
    ("--credential", "acmss-cmss", "--minutes", "-5"),
    ("--credential", "acmss-cmss", "--minutes", "ninety"),
    ("--credential", "acmss-cmss", "--minutes", "60", "--activity", "party"),
    ("--credential", "acmpe-cmpe", "--minutes", "0", "--activity", "college", "--hours", "lots"),
])
def test_convert_exits_2_with_one_line_for_a_bad_value(cli: Callable[..., Result], args: tuple[str, ...]) -> None:
    result = cli("credits", "convert", *args, "--json", expect=2)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.output


def test_plugins_list_shows_every_credential_with_its_cycle_and_requirements(cli_json: Callable[..., Any]) -> None:
    listed = cli_json("plugins", "list")
    assert [p["credential"] for p in listed] == sorted(discover_rules())
    acmpe = next(p for p in listed if p["credential"] == "acmpe-cmpe")
    assert acmpe["cycle"] == "36 months, a fixed calendar cycle from 2022-01-01"
    assert [(r["id"], r["amount"]) for r in acmpe["requirements"]] == [
        ("total", "50"), ("mgma", "30"), ("mgma-live", "12")]
    assert "interpretations" not in acmpe


def test_plugins_list_shows_renewal_items_and_when_a_course_earns_again(
        cli_json: Callable[..., Any], cli: Callable[..., Result]) -> None:
    listed = {p["credential"]: p for p in cli_json("plugins", "list")}
    assert listed["acmpe-facmpe"]["renewal_items"][1] == {"id": "volunteer-service", "title": "volunteer service",
                                                          "kind": "volunteer_hours", "amount": "6"}
    assert (listed["ncct-ncma"]["retakes"], listed["aapc-cppm"]["retakes"], listed["iacet-ceu"]["retakes"]) == \
        ("cycle", "ever", "calendar_year")
    assert "a course earns again: never (counts once)" in cli("plugins", "list").output


def test_plugins_list_verbose_states_every_interpretation(cli_json: Callable[..., Any], cli: Callable[..., Result]) -> None:
    listed = cli_json("plugins", "list", "--verbose")
    acmss = next(p for p in listed if p["credential"] == "acmss-cmss")
    assert any("Exactly 30 minutes counts as the first row" in i or "Exactly 30 minutes is in the first row" in i
               for i in acmss["interpretations"])
    assert acmss["settings"]["step_minutes"] == "30"
    text = cli("plugins", "list", "--verbose").output
    assert "beyond the published table" in text and "aama-cma" in text


def test_a_bad_credit_rules_file_stops_start_up_naming_file_credential_and_key(
    cli: Callable[..., Result], cli_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    for name in ("settings.toml", "exports.toml"):
        (config / name).write_text((settings.config_dir / name).read_text())
    (config / "credit_rules.toml").write_text("[aama-cma]\ncpr_card_cap = -1\n")
    cli_env["LTI_TOOL_CONFIG_DIR"] = str(config)
    result = cli("plugins", "list", expect=2)
    assert "credit_rules.toml: [aama-cma]: cpr_card_cap" in result.output


def test_progress_reports_each_credential_the_learner_holds(
    client: FlaskClient, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    import_mapping(cli_json, tmp_path, source="c", course="565", minutes=90,
                   credentials=["acmss-cmss", "iacet-ceu"])
    assert client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json")).status_code == 200
    [award] = [a for a in cli_json("awards", "list") if a["credential"] == "acmss-cmss"]
    completed = award["completed_at"][:10]
    cli_json("learners", "credential", "add", "--source", str(canvas["id"]), "--user", award["learner"],
             "--credential", "acmss-cmss", "--number", "CMSS-42", "--cycle-start", completed)
    cli_json("learners", "credential", "add", "--source", str(canvas["id"]), "--user", award["learner"],
             "--credential", "iacet-ceu")
    progress = cli_json("learners", "progress", "--source", str(canvas["id"]), "--user", award["learner"],
                        "--on", completed)
    by_credential = {p["credential"]: p for p in progress}
    acmss = by_credential["acmss-cmss"]
    assert (acmss["earned"], acmss["required"], acmss["met"], acmss["cycle_start"]) == ("1.5", "3", False, completed)
    assert acmss["requirements"][0] == {"id": "total", "label": "CME in one year", "kind": "minimum",
                                        "earned": "1.5", "required": "3", "met": False, "not_counted": "0"}
    assert acmss["missing"] == [f"1.5 more CME hours (CME in one year) by {acmss['cycle_end']}",
                                f"confirm the annual licensing fee by {acmss['cycle_end']}"]
    assert (by_credential["iacet-ceu"]["earned"], by_credential["iacet-ceu"]["cycle_start"]) == ("0.2", None)
    assert set(acmss) == {f.name for f in dataclasses.fields(__import__(
        "lti_tool.credits.api", fromlist=["Progress"]).Progress)}


def test_progress_for_a_credential_whose_plugin_is_gone_exits_2_naming_it(
    cli: Callable[..., Result], cli_json: Callable[..., Any], runtime: Any
) -> None:
    from lti_tool import models
    from lti_tool.db import write_session

    source = cli_json("sources", "add", "--kind", "moodle", "--name", "m")
    cli_json("learners", "credential", "add", "--source", str(source["id"]), "--user", "9",
             "--credential", "nha-ccma")
    with write_session(runtime.sessions) as session:
        session.query(models.LearnerCredential).update({"credential": "retired-cert"})
    result = cli("learners", "progress", "--source", str(source["id"]), "--user", "9", expect=2)
    assert "unknown credential 'retired-cert'" in result.output


def test_convert_takes_a_panelists_own_portion_and_a_posters_staffed_time(cli_json: Callable[..., Any]) -> None:
    panel = cli_json("credits", "convert", "--credential", "acmpe-cmpe", "--minutes", "90", "--activity",
                     "presentation", "--own-minutes", "45")
    poster = cli_json("credits", "convert", "--credential", "acmpe-cmpe", "--minutes", "240", "--activity",
                      "poster", "--staffed-minutes", "60", "--repeat")
    assert (panel["amount"], poster["amount"]) == ("1.5", "1")


def test_a_mapping_carries_the_own_portion_to_the_award(
    client: FlaskClient, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=90, activity="presentation",
                   own_minutes=40, credentials=["acmpe-cmpe"])
    assert client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json")).status_code == 200
    [award] = cli_json("awards", "list")
    assert award["amount"] == "1.25" and "own portion" in award["reason"]
