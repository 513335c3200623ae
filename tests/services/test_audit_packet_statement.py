"""The audit packet's statement lists the learner's credit from outside the LMS after the tool's
claims, each line marked self-reported or verified and kept out of the tool's total; rejected
outside credit is not listed (it counts for nothing); the exporter's statement stays claims only."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.lifecycle.pdf_reading import pdf_text
from tests.spine import import_mapping, moodle_completed

HOSTILE_TITLE = "=HYPERLINK(\"https://evil.example\",\"x\")"


@pytest.fixture
def source(cli_json: Callable[..., Any]) -> Any:
    return cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")


@pytest.fixture
def who(cli_json: Callable[..., Any], source: Any) -> list[str]:
    args = ["--source", str(source["id"]), "--user", "7"]
    cli_json("learners", "credential", "add", *args, "--credential", "amt-rma", "--certified-on", "2023-01-01",
             "--number", "RMA-77")
    return args


def award(client: FlaskClient, cli_json: Callable[..., Any], tmp_path: Path, source: Any) -> None:
    """User 7 completes course 565 (60 minutes, AMT): 1 CCP point claimed by the tool."""
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="565", minutes=60, credentials=["amt-rma"],
                   title="HIPAA refresher")
    response = client.post(source["url"], json=moodle_completed(7, 565, time=1744000000))
    assert response.status_code == 200, response.get_data(as_text=True)


def outside(cli_json: Callable[..., Any], who: list[str], title: str, minutes: int) -> Any:
    return cli_json("learners", "outside", "add", *who, "--credential", "amt-rma", "--title", title,
                    "--provider", "State society", "--date", "2025-04-02", "--minutes", str(minutes))


def statement(cli_json: Callable[..., Any], who: list[str], tmp_path: Path) -> tuple[list[dict[str, str]], str]:
    out = tmp_path / "packet.zip"
    cli_json("audit", "packet", *who, "--credential", "amt-rma", "-o", str(out))
    with zipfile.ZipFile(out) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("statement.csv").decode())))
        text = pdf_text(archive.read("statement.pdf"), tmp_path)
    return rows, text


def test_outside_credit_follows_the_claims_marked_self_reported(
        client: FlaskClient, cli_json: Callable[..., Any], source: Any, who: list[str], tmp_path: Path) -> None:
    award(client, cli_json, tmp_path, source)
    outside(cli_json, who, "Coding update", 120)
    rows, text = statement(cli_json, who, tmp_path)
    assert [(r["entry"], r["course_title"], r["credit"], r["claimed_by"]) for r in rows] == [
        ("credit", "HIPAA refresher", "1", "the tool"),
        ("outside", "Coding update", "2", "outside credit, self-reported")]
    [mine] = [r for r in rows if r["entry"] == "outside"]
    assert (mine["claim_key"], mine["award_id"], mine["provider"], mine["member_number"]) == (
        "", "", "State society", "RMA-77")
    assert "Total: 1 CCP points claimed by the tool" in text
    assert "Coding update (State society): 120 min, 2 CCP points - outside credit, self-reported" in text
    assert "Total outside the LMS: 2 CCP points, of which self-reported: 2 CCP points" in text


def test_verified_outside_credit_is_marked_verified(
        cli_json: Callable[..., Any], who: list[str], tmp_path: Path) -> None:
    recorded = outside(cli_json, who, "Coding update", 120)
    cli_json("learners", "outside", "verify", str(recorded["id"]))
    rows, text = statement(cli_json, who, tmp_path)
    assert [r["claimed_by"] for r in rows] == ["outside credit, verified by an administrator"]
    assert "of which self-reported: 0 CCP points" in text


def test_a_learner_with_only_outside_credit_gets_a_statement_naming_them(
        cli_json: Callable[..., Any], who: list[str], tmp_path: Path) -> None:
    outside(cli_json, who, "Coding update", 60)
    rows, text = statement(cli_json, who, tmp_path)
    assert [(r["learner_id"], r["credential"], r["source"]) for r in rows] == [("7", "amt-rma", "outside the LMS")]
    assert "Credential: amt-rma Member/licence number: RMA-77" in text and "claimed by the tool" not in text


def test_rejected_outside_credit_is_not_in_the_statement(
        cli_json: Callable[..., Any], who: list[str], tmp_path: Path) -> None:
    kept = outside(cli_json, who, "Coding update", 60)
    gone = outside(cli_json, who, "Staff lunch talk", 60)
    cli_json("learners", "outside", "reject", str(gone["id"]), "--reason", "no certificate")
    rows, _ = statement(cli_json, who, tmp_path)
    assert [r["course_id"] for r in rows] == [f"outside:{kept['id']}"]


def test_an_outside_title_is_no_formula_in_the_statement_csv(
        cli_json: Callable[..., Any], who: list[str], tmp_path: Path) -> None:
    outside(cli_json, who, HOSTILE_TITLE, 60)
    rows, _ = statement(cli_json, who, tmp_path)
    assert rows[0]["course_title"] == "'" + HOSTILE_TITLE
