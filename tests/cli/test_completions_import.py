"""``lti-tool completions import``: historical completions, through the rules of a pushed event."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.cli.completions import PROGRESS_EVERY
from lti_tool.runtime import Runtime
from tests.conftest import REPO
from tests.spine import import_mapping

CREDENTIALS = ["acmss-cmss", "iacet-ceu"]


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def source(cli_json: Callable[..., Any], tmp_path: Path) -> dict[str, Any]:
    created = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="42", minutes=90, credentials=CREDENTIALS)
    return created


def csv_file(tmp_path: Path, text: str, name: str = "history.csv", bom: bool = False) -> str:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return str(path)


def run_import(cli: Callable[..., Result], path: str, *args: str, expect: int = 0) -> dict[str, Any]:
    return json.loads(cli("completions", "import", path, "--source", "moodle-prod", "--json", *args,
                          expect=expect).output)


GOOD = ("user_id,course_id,completed_at,minutes,name,email\n"
        "7,42,2025-03-31,,Rosa Diaz,rosa@clinic.example\n"
        "8,42,2025-04-01T09:30:00Z,,,\n"
        "9,77,2025-04-02T09:30:00-05:00,,,\n")


def test_rows_are_credited_and_summarised(cli: Callable[..., Result], source: dict[str, Any], runtime: Runtime,
                                          tmp_path: Path) -> None:
    summary = run_import(cli, csv_file(tmp_path, GOOD))
    assert summary == {"rows": 3, "credited": 2, "already_known": 0, "already_credited": 0, "unmapped": 1,
                       "refused": 0, "errors": []}
    assert count(runtime, models.Award) == 4 and count(runtime, models.OutboxClaim) == 4


def test_importing_the_same_file_again_adds_nothing(cli: Callable[..., Result], source: dict[str, Any],
                                                    runtime: Runtime, tmp_path: Path) -> None:
    path = csv_file(tmp_path, GOOD)
    run_import(cli, path)
    before = [count(runtime, m) for m in (models.LmsEvent, models.CourseCompletion, models.Award, models.LedgerEntry,
                                           models.OutboxClaim, models.Learner)]
    summary = run_import(cli, path)
    assert (summary["credited"], summary["already_known"]) == (0, 3)
    assert [count(runtime, m) for m in (models.LmsEvent, models.CourseCompletion, models.Award, models.LedgerEntry,
                                         models.OutboxClaim, models.Learner)] == before


def test_a_bad_row_is_reported_by_line_and_the_rest_go_in(cli: Callable[..., Result], source: dict[str, Any],
                                                          runtime: Runtime, tmp_path: Path) -> None:
    text = ("user_id,course_id,completed_at\n"
            "7,42,2025-03-31\n"
            ",42,2025-03-31\n"
            "8,42,31/03/2025\n"
            "9,42,2999-01-01\n"
            "10,42\n"
            "11,42,2025-03-31\n")
    summary = run_import(cli, csv_file(tmp_path, text), expect=1)
    assert [e["line"] for e in summary["errors"]] == [3, 4, 5, 6]
    assert "learner id is empty" in summary["errors"][0]["reason"]
    assert "not an ISO 8601" in summary["errors"][1]["reason"]
    assert "future" in summary["errors"][2]["reason"]
    assert "2 fields" in summary["errors"][3]["reason"]
    assert (summary["rows"], summary["credited"]) == (6, 2)
    assert count(runtime, models.CourseCompletion) == 2


def test_minutes_in_digits_that_are_not_ascii_are_a_bad_row_not_a_crash(
        cli: Callable[..., Result], source: dict[str, Any], tmp_path: Path) -> None:
    """ "²" and "٣" are digits to str.isdigit, not to int()."""
    text = "user_id,course_id,completed_at,minutes\n7,42,2025-03-31,\u00b2\n8,42,2025-03-31,\u0663\n9,42,2025-03-31,60\n"
    summary = run_import(cli, csv_file(tmp_path, text), expect=1)
    assert [e["line"] for e in summary["errors"]] == [2, 3]
    assert "not a whole number" in summary["errors"][0]["reason"]
    assert summary["credited"] == 1


def test_a_field_beyond_the_csv_limit_is_a_bad_row_and_the_rest_go_in(
        cli: Callable[..., Result], source: dict[str, Any], runtime: Runtime, tmp_path: Path) -> None:
    """An unclosed quote runs on until the csv module's field limit: reported where it starts."""
    text = ("user_id,course_id,completed_at\n7,42,2025-03-31\n"
            + '"' + "x" * 200_000 + '",42,2025-03-31\n'
            + "8,42,2025-03-31\n")
    summary = run_import(cli, csv_file(tmp_path, text), expect=1)
    assert summary["errors"] == [{"line": 3, "reason": summary["errors"][0]["reason"]}]
    assert "unclosed quote" in summary["errors"][0]["reason"]
    assert summary["credited"] == 2 and count(runtime, models.CourseCompletion) == 2


def test_a_row_spanning_lines_is_reported_at_its_first_line(
        cli: Callable[..., Result], source: dict[str, Any], tmp_path: Path) -> None:
    text = 'user_id,course_id,completed_at,name\n7,42,2025-03-31,"Rosa\nDiaz"\n,42,2025-03-31,"Li\nWu"\n'
    summary = run_import(cli, csv_file(tmp_path, text), expect=1)
    assert [e["line"] for e in summary["errors"]] == [4]
    assert summary["credited"] == 1


def test_a_bom_and_crlf_line_ends_are_read(cli: Callable[..., Result], source: dict[str, Any], tmp_path: Path) -> None:
    path = csv_file(tmp_path, "user_id,course_id,completed_at\r\n7,42,2025-03-31\r\n", bom=True)
    assert run_import(cli, path)["credited"] == 1


def test_a_date_without_time_credits_on_that_date_in_the_tools_time_zone(
        cli: Callable[..., Result], source: dict[str, Any], runtime: Runtime, tmp_path: Path) -> None:
    run_import(cli, csv_file(tmp_path, "user_id,course_id,completed_at\n7,42,2025-12-31\n"))
    with runtime.sessions() as session:
        completed = session.scalar(select(models.CourseCompletion.completed_at))
    assert completed == datetime(2025, 12, 31, 12, 0, tzinfo=UTC)


def test_a_row_that_is_not_utf8_is_reported(cli: Callable[..., Result], source: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"user_id,course_id,completed_at,name\n7,42,2025-03-31,Jos\xe9\n8,42,2025-03-31,Ann\n")
    summary = run_import(cli, str(path), expect=1)
    assert summary["errors"] == [{"line": 2, "reason": "not UTF-8 text"}] and summary["credited"] == 1


@pytest.mark.parametrize(("header", "message"), [
    ("user,course_id,completed_at", "lacks user_id"),
    ("user_id,course_id,completed_at,minuts", "unknown or repeated columns: minuts"),
    ("", "empty"),
])
def test_a_file_without_the_required_header_is_refused(cli: Callable[..., Result], source: dict[str, Any],
                                                       tmp_path: Path, header: str, message: str) -> None:
    path = csv_file(tmp_path, header + ("\n7,42,2025-03-31\n" if header else ""))
    assert message in cli("completions", "import", path, "--source", "moodle-prod", expect=2).output


def test_a_dry_run_counts_and_writes_nothing(cli: Callable[..., Result], source: dict[str, Any], runtime: Runtime,
                                             tmp_path: Path) -> None:
    summary = run_import(cli, csv_file(tmp_path, GOOD), "--dry-run")
    assert (summary["credited"], summary["unmapped"], summary["dry_run"]) == (2, 1, True)
    assert count(runtime, models.CourseCompletion) == 0 and count(runtime, models.LmsEvent) == 0


def test_rows_across_chunks_are_all_credited_once(cli: Callable[..., Result], source: dict[str, Any],
                                                  runtime: Runtime, tmp_path: Path) -> None:
    rows = "".join(f"{u},42,2025-03-31\n" for u in range(1, 22)) + "3,42,2025-03-31\n"
    summary = run_import(cli, csv_file(tmp_path, "user_id,course_id,completed_at\n" + rows), "--chunk-size", "7")
    assert (summary["rows"], summary["credited"], summary["already_known"]) == (22, 21, 1)
    assert count(runtime, models.Award) == 42
    assert count(runtime, models.LmsEvent) == 3  # the last chunk brought only a duplicate: no event left


def test_a_later_completion_in_the_same_period_is_stored_and_earns_nothing_more(
        cli: Callable[..., Result], source: dict[str, Any], runtime: Runtime, tmp_path: Path) -> None:
    rows = "3,42,2025-03-31\n3,42,2025-04-30\n"
    summary = run_import(cli, csv_file(tmp_path, "user_id,course_id,completed_at\n" + rows))
    assert (summary["credited"], summary["already_known"], summary["already_credited"]) == (1, 0, 1)
    assert count(runtime, models.Award) == 2  # one a credential
    assert count(runtime, models.CourseCompletion) == 2


def test_a_row_the_database_refuses_is_reported_and_its_chunk_still_goes_in(
        cli: Callable[..., Result], source: dict[str, Any], runtime: Runtime, tmp_path: Path) -> None:
    from tests.support.triggers import refusing_inserts
    text = "user_id,course_id,completed_at\n7,42,2025-03-31\n666,42,2025-03-31\n8,42,2025-03-31\n"
    with refusing_inserts(runtime.engine, "learners", "NEW.lms_user_id = '666'", "learner 666 refused"):
        summary = run_import(cli, csv_file(tmp_path, text), expect=1)
    assert summary["errors"] == [{"line": 3, "reason": summary["errors"][0]["reason"]}]
    assert "refused by the database" in summary["errors"][0]["reason"]
    assert (summary["rows"], summary["credited"]) == (3, 2)
    assert count(runtime, models.CourseCompletion) == 2


def test_a_completion_imported_then_pushed_is_a_duplicate(cli: Callable[..., Result], source: dict[str, Any],
                                                         client: Any, tmp_path: Path) -> None:
    from tests.spine import moodle_completed
    run_import(cli, csv_file(tmp_path, GOOD))
    noon = int(datetime(2025, 3, 31, 12, tzinfo=UTC).timestamp())  # a bare date is noon of that day
    assert client.post(source["url"], json=moodle_completed(7, 42, time=noon)).json["status"] == "duplicate"


def test_measured_minutes_are_used_where_the_mapping_says_so(
        cli: Callable[..., Result], cli_json: Callable[..., Any], source: dict[str, Any], runtime: Runtime,
        tmp_path: Path) -> None:
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="43", use_measured_time=True,
                   credentials=["iacet-ceu"])
    text = "user_id,course_id,completed_at,minutes\n7,43,2025-03-31,300\n8,43,2025-03-31,\n"
    summary = run_import(cli, csv_file(tmp_path, text))
    assert (summary["credited"], summary["refused"]) == (1, 1)
    with runtime.sessions() as session:
        assert session.scalar(select(models.Award.minutes)) == 300  # under the 8-hour ceiling of measured time


def test_an_unknown_source_is_refused(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = csv_file(tmp_path, GOOD)
    assert "no source named" in cli("completions", "import", path, "--source", "nope", expect=2).output


def test_the_import_logs_each_chunk_and_its_awards_only_at_debug(
    cli: Callable[..., Result], source: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A million rows would otherwise log two million lines at INFO; a pushed event still logs each
    award at INFO (tests/web/test_events.py)."""
    caplog.set_level(logging.DEBUG)
    run_import(cli, csv_file(tmp_path, GOOD), "--chunk-size", "2")
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert info == ["import history.csv: lines 2-3: 2 credited", "import history.csv: lines 4-4: 1 unmapped"], info
    awards = [r for r in caplog.records if r.name == "lti_tool.services.crediting"]
    assert len(awards) == 4 and {r.levelno for r in awards} == {logging.DEBUG}


def test_a_mapping_imported_after_the_rows_logs_its_awards_in_one_line(
    cli: Callable[..., Result], cli_json: Callable[..., Any], source: dict[str, Any], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run_import(cli, csv_file(tmp_path, GOOD))  # user 9's row of course 77 waits for a mapping
    caplog.set_level(logging.DEBUG)
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="77", minutes=60, credentials=CREDENTIALS)
    info = [r.getMessage() for r in caplog.records
            if r.levelno >= logging.INFO and r.name == "lti_tool.services.mappings"]
    assert info == [f"mapping of course 77 (source {source['id']}): 2 awards for the 1 completions that waited for it"]
    awards = [r for r in caplog.records if r.name == "lti_tool.services.crediting"]
    assert len(awards) == 2 and {r.levelno for r in awards} == {logging.DEBUG}


def _terminal_reader(leader: int, into: bytearray) -> threading.Thread:
    """Drain a terminal's leader side (so the writer never blocks on a full buffer) until it closes."""

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the follower side closed: EIO on Linux
                return
            if not chunk:
                return
            into.extend(chunk)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_on_a_terminal_the_import_draws_its_progress_and_off_one_it_does_not(
    source: dict[str, Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The bar advances every :data:`PROGRESS_EVERY` lines and ends at 100%; its JSON answer on
    stdout stays whole. With stderr not a terminal (a log file, a pipe) nothing is drawn."""
    rows = "".join(f"{user},42,2025-01-{1 + user % 28:02d}\n" for user in range(2 * PROGRESS_EVERY + 500))
    path = csv_file(tmp_path, "user_id,course_id,completed_at\n" + rows)
    command = [sys.executable, "-m", "lti_tool", "completions", "import", path, "--source", "moodle-prod", "--json"]
    env = {**os.environ, **cli_env, "LTI_TOOL_LOG_LEVEL": "WARNING", "COLUMNS": "100"}
    leader, follower = pty.openpty()
    drawn = bytearray()
    reader = _terminal_reader(leader, drawn)
    try:
        done = subprocess.run(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=follower, timeout=120)
    finally:
        os.close(follower)
    reader.join(10)
    assert not reader.is_alive()
    os.close(leader)
    assert done.returncode == 0, drawn.decode(errors="replace")
    assert json.loads(done.stdout)["credited"] == 2 * PROGRESS_EVERY + 500
    frames = drawn.decode(errors="replace").replace("\r\n", "\n").split("\r")
    percents = [int(p) for frame in frames for p in re.findall(r"(\d+)%", frame)]
    assert any("importing history.csv" in frame for frame in frames), frames
    assert percents and percents[-1] == 100 and any(0 < p < 100 for p in percents), percents
    off = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert off.returncode == 0 and "importing" not in off.stderr and "\r" not in off.stderr, off.stderr
