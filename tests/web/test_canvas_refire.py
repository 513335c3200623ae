"""Canvas re-fires ``course_completed`` for the same completion (a module's completion time changed,
a requirement was added or met again), with a later ``progress.completed_at`` or, without one, a
later ``metadata.event_time``. Canvas keeps no retake under a course id (a course reset makes a new
course), so a later completion of the same learner and course is the same completion: ``duplicate``,
even when it falls in a later cycle. A Moodle retake (course reset, a new completion time) still
credits again in a later cycle (tests/services/test_retakes.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.runtime import Runtime
from tests.spine import fixture_json, import_mapping


@pytest.fixture
def canvas(cli_json: Callable[..., Any], tmp_path: Path) -> dict[str, Any]:
    source = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=14 * 60,
                   credentials=["ncct-ncma"])
    cli_json("learners", "credential", "add", "--source", str(source["id"]), "--user", "123",
             "--credential", "ncct-ncma", "--certified-on", "2019-01-01")
    return dict(source)


def fired(completed_at: str | None, event_time: str, request_id: str) -> bytes:
    event = copy.deepcopy(fixture_json("canvas_course_completed.json"))
    event["metadata"].update(event_time=event_time, request_id=request_id)
    if completed_at is None:
        event["body"]["progress"] = {"error": {"message": "no progress available"}}
    else:
        event["body"]["progress"]["completed_at"] = completed_at
    return json.dumps(event).encode()


def post(client: FlaskClient, canvas: dict[str, Any], body: bytes) -> dict[str, Any]:
    response = client.post(canvas["url"], data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def awards(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(models.Award)) or 0)


def test_a_refire_with_a_later_completion_time_in_a_later_cycle_is_a_duplicate(
        client: FlaskClient, runtime: Runtime, canvas: dict[str, Any]) -> None:
    assert post(client, canvas, fired("2019-11-05T13:38:00Z", "2019-11-05T13:40:00Z", "a"))["status"] == "credited"
    again = post(client, canvas, fired("2020-02-03T09:00:00Z", "2020-02-03T09:02:00Z", "b"))
    assert again["status"] == "duplicate"
    assert awards(runtime) == 1


def test_a_refire_with_the_same_completion_time_and_a_later_event_time_is_a_duplicate(
        client: FlaskClient, runtime: Runtime, canvas: dict[str, Any]) -> None:
    post(client, canvas, fired("2019-11-05T13:38:00Z", "2019-11-05T13:40:00Z", "a"))
    assert post(client, canvas, fired("2019-11-05T13:38:00Z", "2020-03-01T10:00:00Z", "b"))["status"] == "duplicate"
    assert awards(runtime) == 1


def test_a_refire_without_progress_dated_by_its_event_time_is_a_duplicate(
        client: FlaskClient, runtime: Runtime, canvas: dict[str, Any]) -> None:
    post(client, canvas, fired(None, "2019-11-05T13:40:00Z", "a"))
    assert post(client, canvas, fired(None, "2020-06-01T10:00:00Z", "b"))["status"] == "duplicate"
    assert awards(runtime) == 1


def test_another_learner_or_course_is_still_a_completion_of_its_own(
        client: FlaskClient, runtime: Runtime, canvas: dict[str, Any]) -> None:
    post(client, canvas, fired("2019-11-05T13:38:00Z", "2019-11-05T13:40:00Z", "a"))
    other = json.loads(fired("2020-02-03T09:00:00Z", "2020-02-03T09:02:00Z", "b"))
    other["body"]["user"]["id"] = "124"
    assert post(client, canvas, json.dumps(other).encode())["status"] == "credited"
    assert awards(runtime) == 2
