"""Files and URLs given to the CLI (found after the review, same class as #11 items 7 and 16): a
mapping file whose max_minutes (or another minutes field, or hours) is beyond its column, and an LMS
API URL that can only be hostile or is longer than its column, are each a usage error (exit 2) with
nothing stored; a history CSV with a field over the csv module's limit is a bad row naming the lines
it took. Never a traceback, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.cli.main import cli as lti_cli
from lti_tool.runtime import Runtime


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def moodle(cli_json: Callable[..., Any]) -> str:
    return str(cli_json("sources", "add", "--kind", "moodle", "--name", "m")["name"])


@pytest.mark.parametrize("line", ["max_minutes = 99999999999999999999", "max_minutes = 2147483648",
                                  "own_minutes = 99999999999999999999", "staffed_minutes = 2147483648",
                                  "hours = inf", "hours = 1e40"],
                         ids=["max_minutes beyond 64 bits", "max_minutes beyond the column", "own_minutes",
                              "staffed_minutes", "hours infinite", "hours 1e40"])
def test_a_mapping_file_with_a_number_beyond_its_column_is_a_usage_error(
    cli: Callable[..., Result], runtime: Runtime, moodle: str, tmp_path: Path, line: str
) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(f'[[mapping]]\nsource = "{moodle}"\ncourse = "1"\ntitle = "t"\nminutes = 60\n'
                    f'credentials = ["amt-rma"]\n{line}\n')
    result = cli("mappings", "import", str(path), expect=2)
    assert line.split(" ")[0] in result.output
    assert count(runtime, models.CourseMapping) == 0


def test_a_history_row_with_a_field_over_the_csv_limit_is_a_bad_row_with_its_lines(
    cli: Callable[..., Result], runtime: Runtime, moodle: str, tmp_path: Path
) -> None:
    """An unclosed quote runs on over the following lines: the error names every line it took."""
    path = tmp_path / "history.csv"
    path.write_text("user_id,course_id,completed_at\n42,1,\"2025-01-01\n" + "43,1,2025-01-01\n" * 20_000)
    result = cli("completions", "import", str(path), "--source", moodle, "--json", expect=1)
    [error] = json.loads(result.output)["errors"]
    assert error["line"] == 2 and "lines 2 to " in error["reason"] and "unclosed quote" in error["reason"]
    # The rows after the lines it took are read again: all the same completion, stored once.
    assert count(runtime, models.CourseCompletion) == count(runtime, models.LmsEvent) == 1


@pytest.mark.parametrize("url", ["https://169.254.169.254/", "http://169.254.169.254/", "https://[fe80::1]/",
                                 "https://lms.example/" + "a" * 2001, "gopher://lms.example/"],
                         ids=["link-local", "link-local over http", "IPv6 link-local", "over 2000", "gopher"])
def test_sources_connect_refuses_an_api_url_that_can_only_be_hostile(
    cli: Callable[..., Result], runtime: Runtime, moodle: str, url: str
) -> None:
    # Refused even under the tests' development policy, which lets loopback through.
    result = cli("sources", "connect", moodle, "--api-url", url, "--token-env", "MOODLE_TOKEN", expect=2)
    assert "--api-url" in result.output
    assert count(runtime, models.SourceConnection) == 0


def test_sources_connect_refuses_a_private_api_url_in_production(
    cli_env: dict[str, str], runtime: Runtime, moodle: str
) -> None:
    production = {**cli_env, "LTI_TOOL_OUTBOUND__ALLOW_PRIVATE_ADDRESSES": "false"}
    result = CliRunner().invoke(lti_cli, ["sources", "connect", moodle, "--api-url", "https://10.0.0.5/",
                                          "--token-env", "T"], env=production, catch_exceptions=False)
    assert result.exit_code == 2 and "not allowed" in result.output
    assert count(runtime, models.SourceConnection) == 0
