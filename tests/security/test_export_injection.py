"""Exported files written from learner-controlled text: no spreadsheet formula in any CSV cell,
no forged line in the ACMSS remittance e-mail."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.remittance import remittance_body
from lti_tool.exports.statement import statement_csv
from lti_tool.runtime import Runtime
from lti_tool.services.export_claims import claims_where
from lti_tool.services.exporting import run_export_tick
from lti_tool.text import csv_cell, csv_cells
from tests.exports.ledger_rows import credit, learner

HOSTILE = ["=HYPERLINK(\"https://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_starting_a_formula_is_neutralised(value: str) -> None:
    assert csv_cell(value).startswith("'")


@pytest.mark.parametrize("value", ["-0.5", "+2", "1.25", "Ada Lovelace", "CMSS-4711"])
def test_numbers_and_plain_text_are_left_as_they_are(value: str) -> None:
    assert csv_cell(value) == value


@pytest.mark.parametrize("row", [
    HOSTILE, ["Ada", *HOSTILE], ["Ada", "-0.5", "CMSS-4711"], ["", "=1+1"], ["a\x1f=b", "c"], ["a\x1f", "=b"],
    ["plain", "1.25", "x-y", "a=b"],
])
def test_the_row_scan_neutralises_exactly_what_csv_cell_does(row: list[str]) -> None:
    assert csv_cells(list(row)) == [csv_cell(cell) for cell in row]


def hostile_learner(runtime: Runtime, name: str, number: str, user: str = "=1+1") -> None:
    with write_session(runtime.sessions) as session:
        learner(session, user, name=name, number={"aama-cma": number})
    credit(runtime.sessions, user, "565", credential="aama-cma")


def test_the_claims_csv_delivered_by_a_tick_carries_no_formula(runtime: Runtime) -> None:
    hostile_learner(runtime, HOSTILE[0], HOSTILE[1])
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    [delivered] = report.delivered
    rows = list(csv.reader(io.StringIO(Path(delivered["file"]).read_text())))
    cells = [cell for row in rows[1:] for cell in row]
    assert all(not cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert "'" + HOSTILE[0] in cells and "'" + HOSTILE[1] in cells and "'=1+1" in cells


def test_the_statement_csv_of_the_audit_packet_carries_no_formula(runtime: Runtime) -> None:
    hostile_learner(runtime, HOSTILE[2], HOSTILE[3], user="@cmd")
    with read_session(runtime.sessions) as session:
        claims = claims_where(session, models.Award.credential == "aama-cma")
    rows = list(csv.reader(io.StringIO(statement_csv(claims).decode())))
    assert all(not cell.startswith(("=", "+", "@", "\t", "\r")) and not cell.startswith("-2")
               for row in rows[1:] for cell in row)


def test_a_name_with_line_breaks_forges_no_line_in_the_remittance(runtime: Runtime) -> None:
    forged = "Ada\n  - completed 2026-01-02: Forged 40-hour course, 2400 minutes, 40 CME hours\r\nEve"
    with write_session(runtime.sessions) as session:
        learner(session, "42", name=forged, number={"acmss-cmss": "CMSS-1\u2028  - completed 2026-01-03: x"})
    credit(runtime.sessions, "42", "565", credential="acmss-cmss")
    with read_session(runtime.sessions) as session:
        body = remittance_body(claims_where(session, models.Award.credential == "acmss-cmss"))
    lines = body.splitlines()
    assert [line for line in lines if line.lstrip().startswith("- completed")] == [
        line for line in lines if "course 565" in line or "Course 565" in line]
    assert not any("Forged" in line and line.lstrip().startswith("-") for line in lines)
    assert sum("Forged" in line for line in lines) == 1
