"""Transcripts: per learner, credential and cycle, every award of the cycle with the totals per
requirement, as CSV and PDF, from `lti-tool learners transcript` (and the learner's page)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from click.testing import Result
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.transcript import Transcript, TranscriptLine, transcript_csv
from lti_tool.runtime import Runtime
from lti_tool.services.ledger import revoke_award
from tests.exports.ledger_rows import credit
from tests.lifecycle.pdf_reading import pdf_text
from tests.lifecycle.test_reminders import holder


def history(runtime: Runtime) -> tuple[int, dict[str, int]]:
    """Certified 2024-07-01 (yearly ACMSS cycles from 1 July): one award last cycle, two this cycle
    of which one was revoked."""
    holder(runtime, earned=None)
    awards = {
        "last cycle": credit(runtime.sessions, "u-1", "501", amount="2", completed_at=datetime(2025, 3, 1, 12, tzinfo=UTC)),
        "this cycle": credit(runtime.sessions, "u-1", "502", amount="1.5", completed_at=datetime(2026, 3, 4, 12, tzinfo=UTC)),
        "revoked": credit(runtime.sessions, "u-1", "503", amount="1", completed_at=datetime(2026, 4, 4, 12, tzinfo=UTC)),
    }
    with write_session(runtime.sessions) as session:
        revoke_award(session, awards["revoked"], "course withdrawn")
    with read_session(runtime.sessions) as session:
        source_id = session.scalar(select(models.Source.id).where(models.Source.name == "canvas-prod"))
    assert source_id is not None
    return source_id, awards


def transcript_rows(cli: Callable[..., Result], tmp_path: Path, source_id: int, *extra: str) -> list[dict[str, str]]:
    out = tmp_path / "transcript.csv"
    cli("learners", "transcript", "--source", str(source_id), "--user", "u-1", "--credential", "acmss-cmss",
        *extra, "-o", str(out))
    return list(csv.DictReader(io.StringIO(out.read_text())))


def test_the_transcript_lists_the_cycles_awards_that_stand(
    runtime: Runtime, cli: Callable[..., Result], tmp_path: Path
) -> None:
    source_id, awards = history(runtime)
    rows = transcript_rows(cli, tmp_path, source_id, "--cycle", "2026-01-15")
    assert [(r["award_id"], r["credit"], r["completed_on"]) for r in rows if r["section"] == "award"] == [
        (str(awards["this cycle"]), "1.5", "2026-03-04")]


def test_the_transcript_totals_each_requirement_of_the_cycle(
    runtime: Runtime, cli: Callable[..., Result], tmp_path: Path
) -> None:
    source_id, _ = history(runtime)
    [total] = [r for r in transcript_rows(cli, tmp_path, source_id, "--cycle", "2026-01-15")
               if r["section"] == "requirement"]
    assert (total["requirement"], total["earned"], total["required"], total["met"]) == (
        "CME in one year", "1.5", "3", "no")


def test_an_earlier_cycle_has_its_own_awards_and_totals(
    runtime: Runtime, cli: Callable[..., Result], tmp_path: Path
) -> None:
    source_id, awards = history(runtime)
    rows = transcript_rows(cli, tmp_path, source_id, "--cycle", "2025-03-01")
    assert [r["award_id"] for r in rows if r["section"] == "award"] == [str(awards["last cycle"])]
    [total] = [r for r in rows if r["section"] == "requirement"]
    assert (total["earned"], total["required"]) == ("2", "3")


def test_the_pdf_names_the_learner_credential_cycle_awards_and_totals(
    runtime: Runtime, cli: Callable[..., Result], tmp_path: Path
) -> None:
    source_id, _ = history(runtime)
    out = tmp_path / "transcript.pdf"
    cli("learners", "transcript", "--source", str(source_id), "--user", "u-1", "--credential", "acmss-cmss",
        "--cycle", "2026-01-15", "-o", str(out))
    text = pdf_text(out.read_bytes(), tmp_path)
    for words in ("Dana Reyes", "acmss-cmss", "2025-07-01 to 2026-06-30", "Course 502", "1.5 CME",
                  "Totals: 1.5 of 3", "CME in one year: 1.5 of 3", "not met"):
        assert words in text, (words, text)
    assert "Course 501" not in text and "Course 503" not in text


def test_a_learner_with_no_such_credential_gets_a_clear_error(
    runtime: Runtime, cli: Callable[..., Result], tmp_path: Path
) -> None:
    source_id, _ = history(runtime)
    result = cli("learners", "transcript", "--source", str(source_id), "--user", "u-1", "--credential",
                 "aama-cma", "-o", str(tmp_path / "t.csv"), expect=2)
    assert "holds no aama-cma" in result.output and not (tmp_path / "t.csv").exists()


def test_the_file_must_be_pdf_or_csv(cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("learners", "transcript", "--source", "1", "--user", "u-1", "--credential", "acmss-cmss",
                 "-o", str(tmp_path / "t.xlsx"), expect=2)
    assert ".pdf or .csv" in result.output


def test_a_course_title_is_never_a_spreadsheet_formula() -> None:
    made = Transcript(learner_name="D", credential="acmss-cmss", title="CMSS", body="ACMSS", number=None, unit="CME",
                      cycle_start=None, cycle_end=None, measured_on=date(2026, 1, 1), requirements=(), earned="1",
                      required="3", met=False, lines=(TranscriptLine(1, date(2026, 1, 1), "=HYPERLINK(\"x\")", 60, "1",
                                                                     "CME", None, None),))
    [row] = list(csv.DictReader(io.StringIO(transcript_csv(made).decode())))
    assert row["course"] == "'=HYPERLINK(\"x\")"


def test_a_category_is_never_a_spreadsheet_formula_either() -> None:
    made = Transcript(learner_name="D", credential="acmss-cmss", title="CMSS", body="ACMSS", number=None, unit="CME",
                      cycle_start=None, cycle_end=None, measured_on=date(2026, 1, 1), requirements=(), earned="1",
                      required="3", met=False, lines=(TranscriptLine(1, date(2026, 1, 1), "HIPAA", 60, "1",
                                                                     "CME", "@SUM(A1:A9)", None),))
    [row] = list(csv.DictReader(io.StringIO(transcript_csv(made).decode())))
    assert row["category"] == "'@SUM(A1:A9)"


def test_the_transcript_lists_the_cycles_outside_credit_and_counts_it(
    runtime: Runtime, cli: Callable[..., Result], cli_json: Callable[..., object], tmp_path: Path
) -> None:
    source_id, _ = history(runtime)
    cli_json("learners", "outside", "add", "--source", str(source_id), "--user", "u-1", "--credential", "acmss-cmss",
             "--title", "MLN webinar", "--provider", "CMS", "--date", "2026-05-02", "--minutes", "45")
    rows = transcript_rows(cli, tmp_path, source_id, "--cycle", "2026-01-15")
    [outside] = [r for r in rows if r["section"] == "outside credit"]
    assert outside["credit"] == "1" and "MLN webinar (CMS, 2026-05-02, self-reported)" in outside["course"]
    [total] = [r for r in rows if r["section"] == "requirement"]
    assert total["earned"] == "2.5"


def test_the_transcript_shows_a_renewal_item_confirmed_with_its_date(
    runtime: Runtime, cli: Callable[..., Result], cli_json: Callable[..., object], tmp_path: Path
) -> None:
    source_id, _ = history(runtime)
    def items() -> list[tuple[str, str]]:
        rows = transcript_rows(cli, tmp_path, source_id, "--cycle", "2026-01-15")
        return [(r["requirement"], r["state"]) for r in rows if r["section"] == "non-credit item"]

    assert items() == [("the annual licensing fee", "not confirmed")]
    cli_json("learners", "confirm", "--source", str(source_id), "--user", "u-1", "--credential", "acmss-cmss",
             "--item", "annual-fee", "--on", "2026-02-01")
    assert items() == [("the annual licensing fee", "confirmed 2026-02-01")]
