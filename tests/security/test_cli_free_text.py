"""Free text given to the command line: a NUL, a lone surrogate (an argument that was not UTF-8), a
control character, a line break where one line is written, or more characters than the column holds
is a usage error (exit 2) with the option named, and nothing is stored, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.runtime import Runtime
from tests.spine import fixture_bytes, import_mapping

HOSTILE_REASONS = {"NUL": "wrong\x00course", "lone surrogate": "wrong \udc80 course",
                   "line break": "wrong course\nForged line", "escape": "wrong \x1b[2J course",
                   "over 1000": "r" * 1001}


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def award_id(client: FlaskClient, cli_json: Callable[..., Any], tmp_path: Path) -> int:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    import_mapping(cli_json, tmp_path, source="c", course="565", minutes=60, credentials=["acmss-cmss"])
    client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json"))
    [award] = cli_json("awards", "list")
    return int(award["id"])


@pytest.mark.parametrize("reason", HOSTILE_REASONS.values(), ids=HOSTILE_REASONS.keys())
def test_a_hostile_revocation_reason_is_a_usage_error_and_revokes_nothing(
    cli: Callable[..., Result], runtime: Runtime, award_id: int, reason: str
) -> None:
    entries, claims = count(runtime, models.LedgerEntry), count(runtime, models.OutboxClaim)
    result = cli("awards", "revoke", str(award_id), "--reason", reason, expect=2)
    assert "reason" in result.output
    assert (count(runtime, models.LedgerEntry), count(runtime, models.OutboxClaim)) == (entries, claims)


def test_a_clean_reason_of_1000_characters_revokes(
    cli_json: Callable[..., Any], runtime: Runtime, award_id: int
) -> None:
    assert cli_json("awards", "revoke", str(award_id), "--reason", "r" * 1000)["revoked"] is True


@pytest.mark.parametrize("reason", HOSTILE_REASONS.values(), ids=HOSTILE_REASONS.keys())
def test_a_hostile_rejection_reason_is_a_usage_error_and_changes_nothing(
    cli: Callable[..., Result], cli_json: Callable[..., Any], runtime: Runtime, reason: str
) -> None:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    who = ["--source", str(source["id"]), "--user", "42"]
    cli_json("learners", "credential", "add", *who, "--credential", "amt-rma", "--certified-on", "2024-01-01")
    recorded = cli_json("learners", "outside", "add", *who, "--credential", "amt-rma", "--title", "Coding",
                        "--provider", "State society", "--date", "2025-04-02", "--minutes", "60")
    result = cli("learners", "outside", "reject", str(recorded["id"]), "--reason", reason, expect=2)
    assert "reason" in result.output
    [row] = cli_json("learners", "outside", "list")
    assert row["status"] == "self-reported"


@pytest.mark.parametrize(("args", "model"), [
    (["sources", "add", "--kind", "moodle", "--name", "moodle\x00"], models.Source),
    (["sources", "add", "--kind", "moodle", "--name", "moodle\udcff"], models.Source),
    (["learners", "credential", "add", "--source", "{source}", "--user", "4\x002", "--credential", "amt-rma"],
     models.Learner),
    (["learners", "credential", "add", "--source", "{source}", "--user", "42", "--credential", "amt-rma",
      "--number", "\x00number:1"], models.Learner),
], ids=["source name NUL", "source name not UTF-8", "learner id NUL", "member number NUL"])
def test_any_command_given_unclean_text_exits_2_naming_the_option_and_stores_nothing(
    cli: Callable[..., Result], cli_json: Callable[..., Any], runtime: Runtime, args: list[str], model: Any
) -> None:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-1")["id"]
    before = count(runtime, model)
    result = cli(*(arg.format(source=source) for arg in args), expect=2)
    assert "not UTF-8" in result.output and "--" in result.output
    assert count(runtime, model) == before


@pytest.mark.parametrize("args", [
    ["events", "retry", "99999999999999999999"],
    ["awards", "revoke", "99999999999999999999", "--reason", "wrong course"],
    ["learners", "outside", "verify", "--", "-99999999999999999999"],
], ids=["events retry", "awards revoke", "outside verify"])
def test_an_id_beyond_64_bits_is_a_usage_error(cli: Callable[..., Result], args: list[str]) -> None:
    assert "beyond what the database holds" in cli(*args, expect=2).output


def test_a_learner_id_over_255_characters_is_a_usage_error_and_stores_nothing(
    cli: Callable[..., Result], cli_json: Callable[..., Any], runtime: Runtime
) -> None:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-1")["id"]
    result = cli("learners", "credential", "add", "--source", str(source), "--user", "u" * 256,
                 "--credential", "amt-rma", expect=2)
    assert "longer than 255" in result.output
    assert count(runtime, models.Learner) == 0
    cli_json("learners", "credential", "add", "--source", str(source), "--user", "u" * 255, "--credential", "amt-rma")
    assert count(runtime, models.Learner) == 1
