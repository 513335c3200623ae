"""Changing a rule's settings never changes a past award; a recompute reverses and re-awards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import models
from lti_tool.credits.registry import load_rulebook
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
    [before] = [a for a in cli_json("awards", "list") if a["credential"] == "acmss-cmss"]

    unchanged = cli_json("awards", "recompute")
    assert unchanged["changed"] == [] and unchanged["unchanged"] == 2

    overrides = tmp_path / "credit_rules.toml"
    overrides.write_text(_override_for_acmss(runtime))
    changed_rules = load_rulebook(overrides)
    with write_session(runtime.sessions) as session:
        report = recompute(session, changed_rules)
    [change] = report.changed
    assert change["award_id"] == before["id"]
    awards = {(a["credential"], a["revision"]): a for a in cli_json("awards", "list")}
    assert awards[("acmss-cmss", 0)]["amount"] == before["amount"]
    assert awards[("acmss-cmss", 0)]["revoked"] is True
    assert awards[("acmss-cmss", 1)]["revoked"] is False
    with runtime.sessions() as session:
        kinds = sorted(session.scalars(select(models.LedgerEntry.kind)))
    assert kinds == ["credit", "credit", "credit", "reversal"]
    with write_session(runtime.sessions) as session:
        assert recompute(session, changed_rules).changed == []


def _override_for_acmss(runtime: Runtime) -> str:
    """An override that changes ACMSS's result for 90 minutes, whatever its settings are named."""
    rule = runtime.rulebook.get("acmss-cmss")
    snapshot = rule.settings_snapshot()
    for key, value in snapshot.items():
        if "step" in key or "row" in key or "beyond" in key:
            return f'[acmss-cmss]\n{key} = "{value}1"\n'
    raise AssertionError(f"no numeric setting to override in {snapshot}")
