"""Changing a rule's settings never changes a past award; a recompute reverses and re-awards."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import models
from lti_tool.credits.api import Activity
from lti_tool.credits.registry import Rulebook, RuleSettingsError, load_rulebook
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.recompute import recompute
from tests.spine import fixture_bytes, import_mapping


def test_recompute_after_a_settings_change_reverses_and_appends_a_revision(
    client: FlaskClient, runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    import_mapping(cli_json, tmp_path, source="c", course="565", minutes=90, credentials=["acmss-cmss", "iacet-ceu"])
    client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json"))
    [before] = [a for a in cli_json("awards", "list") if a["credential"] == "iacet-ceu"]

    unchanged = cli_json("awards", "recompute")
    assert unchanged["changed"] == [] and unchanged["unchanged"] == 2

    changed_rules = _rules_that_change_90_minutes_of_iacet(runtime, tmp_path)
    with write_session(runtime.sessions) as session:
        report = recompute(session, changed_rules)
    [change] = report.changed
    assert change["award_id"] == before["id"]
    awards = {(a["credential"], a["revision"]): a for a in cli_json("awards", "list")}
    assert awards[("iacet-ceu", 0)]["amount"] == before["amount"]
    assert awards[("iacet-ceu", 0)]["revoked"] is True
    assert awards[("iacet-ceu", 1)]["revoked"] is False
    with runtime.sessions() as session:
        kinds = sorted(session.scalars(select(models.LedgerEntry.kind)))
    assert kinds == ["credit", "credit", "credit", "reversal"]
    with write_session(runtime.sessions) as session:
        assert recompute(session, changed_rules).changed == []


def _rules_that_change_90_minutes_of_iacet(runtime: Runtime, tmp_path: Path) -> Rulebook:
    """A rulebook with one IACET setting overridden so that 90 minutes earns something else,
    found by trying each numeric setting doubled (the test does not depend on setting names)."""
    rule = runtime.rulebook.get("iacet-ceu")
    activity = Activity(minutes=90)
    before = rule.convert(activity)
    for key, value in rule.settings_snapshot().items():
        try:
            doubled = Decimal(value) * 2
        except ArithmeticError:
            continue
        text = str(int(doubled)) if doubled == doubled.to_integral_value() and "." not in value else f'"{doubled}"'
        path = tmp_path / f"rules-{key}.toml"
        path.write_text(f"[iacet-ceu]\n{key} = {text}\n")
        try:
            rules = load_rulebook(path)
        except RuleSettingsError:
            continue
        if rules.get("iacet-ceu").convert(activity) != before:
            return rules
    raise AssertionError("no IACET setting changes the result for 90 minutes")


def test_a_settings_change_that_gives_the_same_result_changes_nothing(
    client: FlaskClient, runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    import_mapping(cli_json, tmp_path, source="c", course="565", minutes=90, credentials=["iacet-ceu"])
    client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json"))
    with write_session(runtime.sessions) as session:
        report = recompute(session, runtime.rulebook)
    assert (report.unchanged, report.changed) == (1, [])
