"""The real server process on 127.0.0.1: events over HTTP, concurrent duplicates award once."""

from __future__ import annotations

import json
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


def test_concurrent_distinct_events_are_each_credited_once(
    server: str, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    """Concurrent requests share transactions (group commit); each still gets its own answer."""
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=60, credentials=["acmss-cmss"])
    event = json.loads(fixture_bytes("canvas_course_completed.json"))

    def post(user: int) -> tuple[str, str]:
        event_for_user = {**event, "body": {**event["body"], "user": {**event["body"]["user"], "id": str(user)}}}
        r = requests.post(server + canvas["url"], json=event_for_user, timeout=30)
        return str(r.json()["status"]), str(r.json()["user"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(100, 132)))
    assert answers == [("credited", str(user)) for user in range(100, 132)]
    awards = cli_json("awards", "list")
    assert sorted(a["learner"] for a in awards) == sorted(str(user) for user in range(100, 132))


def test_unknown_token_over_http_is_404_json(server: str) -> None:
    response = requests.post(f"{server}/events/canvas/nope", data=b"{}", timeout=10)
    assert response.status_code == 404
    assert response.json()["status"] == "error"


def test_worker_count_is_one_on_sqlite_and_one_per_two_cores_on_postgresql_unless_set() -> None:
    import os as _os

    from lti_tool.server import worker_count
    from lti_tool.settings import load_settings

    assert worker_count(load_settings(database_url="sqlite:////tmp/x.sqlite3")) == 1
    assert worker_count(load_settings(database_url="postgresql+psycopg://u:p@127.0.0.1/db")) == max(1, (_os.cpu_count() or 1) // 2)
    assert worker_count(load_settings(database_url="sqlite:////tmp/x.sqlite3", server={"workers": 3})) == 3


def test_a_worker_s_app_is_built_with_its_startup_objects_frozen_out_of_the_collector(tmp_path: Path) -> None:
    """A full garbage collection walked every object the worker made while starting: a pause of
    about 100 ms for every request thread, the latency tail. They are frozen once the app is built."""
    import gc

    from lti_tool.server import GunicornServer
    from lti_tool.settings import load_settings

    gc.unfreeze()
    try:
        app = GunicornServer(load_settings(instance_dir=tmp_path / "instance")).load()
        assert app.name == "lti_tool.web.app"
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
