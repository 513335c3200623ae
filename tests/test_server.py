"""The real server process on 127.0.0.1: events over HTTP, concurrent duplicates award once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.spine import fixture_bytes, import_mapping


def test_event_posted_over_http_is_credited_and_exported(
    server: str, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=90, credentials=["acmss-cmss"])
    response = requests.post(server + canvas["url"], data=fixture_bytes("canvas_course_completed.json"),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "credited"
    [delivery] = cli_json("export", "run")["delivered"]
    assert "1.5" in Path(delivery["file"]).read_text()


def test_concurrent_duplicate_deliveries_award_once(
    server: str, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=60, credentials=["acmss-cmss"])
    body = fixture_bytes("canvas_course_completed.json")

    def post(_: int) -> str:
        r = requests.post(server + canvas["url"], data=body, headers={"Content-Type": "application/json"}, timeout=30)
        return str(r.json()["status"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, range(16)))
    assert sorted(set(statuses)) == ["credited", "duplicate"]
    assert statuses.count("credited") == 1
    assert len(cli_json("awards", "list")) == 1


def test_unknown_token_over_http_is_404_json(server: str) -> None:
    response = requests.post(f"{server}/events/canvas/nope", data=b"{}", timeout=10)
    assert response.status_code == 404
    assert response.json()["status"] == "error"


def test_worker_count_is_one_on_sqlite_and_one_per_core_on_postgresql_unless_set() -> None:
    import os as _os

    from lti_tool.server import worker_count
    from lti_tool.settings import load_settings

    assert worker_count(load_settings(database_url="sqlite:////tmp/x.sqlite3")) == 1
    assert worker_count(load_settings(database_url="postgresql+psycopg://u:p@127.0.0.1/db")) == (_os.cpu_count() or 1)
    assert worker_count(load_settings(database_url="sqlite:////tmp/x.sqlite3", server={"workers": 3})) == 3
