"""``lti-tool sources connect`` and ``lti-tool reconcile run``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select

from lti_tool import models
from lti_tool.runtime import Runtime
from tests.conftest import REPO
from tests.spine import import_mapping
from tests.support.canvas_api import CanvasState, canvas_handler, progress_row
from tests.support.loopback import serve


@pytest.fixture
def canvas(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")


def test_connect_keeps_where_the_token_is_never_the_token(
        cli_json: Callable[..., Any], canvas: dict[str, Any], runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "7~very-secret")
    shown = cli_json("sources", "connect", "canvas-prod", "--api-url", "https://school.instructure.com/",
                     "--token-env", "CANVAS_TOKEN")
    assert shown["api_url"] == "https://school.instructure.com" and shown["auth"] == {"token_env": "CANVAS_TOKEN"}
    with runtime.sessions() as session:
        stored = session.scalar(select(models.SourceConnection))
    assert stored is not None and "very-secret" not in json.dumps(stored.auth)


def test_connect_again_replaces_the_connection(cli_json: Callable[..., Any], canvas: dict[str, Any],
                                               runtime: Runtime, tmp_path: Path) -> None:
    cli_json("sources", "connect", "canvas-prod", "--api-url", "https://a.example", "--token-env", "T")
    token = tmp_path / "token"
    token.write_text("x")
    shown = cli_json("sources", "connect", "canvas-prod", "--api-url", "https://b.example", "--token-file", str(token))
    assert shown["auth"] == {"token_file": str(token.resolve())}
    with runtime.sessions() as session:
        assert len(session.scalars(select(models.SourceConnection)).all()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--api-url", "school.instructure.com", "--token-env", "T"], "http(s) URL"),
    (["--api-url", "https://s.example"], "one of --token-env or --token-file"),
    (["--api-url", "https://s.example", "--token-env", "T", "--token-file", "/tmp/t"], "one of --token-env"),
    (["--api-url", "https://s.example", "--token-file", str(REPO / "token.txt")], "Git work tree"),
    (["--api-url", "https://s.example", "--client-id", "1"], "--client-secret-env and --refresh-token-env"),
])
def test_connect_refuses_what_would_not_work_or_would_leak(
        cli: Callable[..., Result], canvas: dict[str, Any], args: list[str], message: str) -> None:
    result = cli("sources", "connect", "canvas-prod", *args, expect=2)
    assert message in result.output


def test_an_oauth_developer_key_is_for_canvas_only(cli: Callable[..., Result], cli_json: Callable[..., Any]) -> None:
    cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    result = cli("sources", "connect", "moodle-prod", "--api-url", "https://m.example", "--client-id", "1",
                 "--client-secret-env", "S", "--refresh-token-env", "R", expect=2)
    assert "Canvas sources only" in result.output


def test_connect_an_unknown_source_is_refused(cli: Callable[..., Result]) -> None:
    assert "no source named" in cli("sources", "connect", "nope", "--api-url", "https://x.example",
                                    "--token-env", "T", expect=2).output


def test_reconcile_run_prints_each_sources_counts(cli: Callable[..., Result], cli_json: Callable[..., Any],
                                                  canvas: dict[str, Any], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=60, credentials=["acmss-cmss"])
    state = CanvasState(tokens={"good"}, courses={"565": [progress_row(123, "Isaac Newton", "2026-11-05T13:38:00Z")]})
    with serve(canvas_handler(state)) as base:
        cli_json("sources", "connect", "canvas-prod", "--api-url", base, "--token-env", "CANVAS_TOKEN")
        result = cli("reconcile", "run", "--source", "canvas-prod", "--since", "2026-01-01", "--json")
    assert json.loads(result.output) == [{"source": "canvas-prod", "courses": 1, "users_checked": 1,
                                          "completions_found": 1, "credited": 1, "already_known": 0,
                                          "already_credited": 0, "unmapped": 0, "refused": 0, "errors": []}]


def test_reconcile_run_exits_1_and_shows_errors(cli: Callable[..., Result], canvas: dict[str, Any]) -> None:
    result = cli("reconcile", "run", "--source", "canvas-prod", expect=1)
    assert "not connected" in result.output


def test_a_bad_since_is_refused(cli: Callable[..., Result]) -> None:
    assert "--since" in cli("reconcile", "run", "--since", "last tuesday", expect=2).output
