"""Hostile event bodies at ``POST /events/<kind>/<token>``: each is a 400 with nothing stored,
the same on SQLite and PostgreSQL; an event that keeps failing is parked, not retried for ever."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.runtime import Runtime
from lti_tool.services.ingestion import MAX_EVENT_ATTEMPTS, reprocess_failed
from tests.spine import fixture_json, import_mapping, moodle_completed
from tests.support.triggers import refusing_inserts

STORED = (models.LmsEvent, models.Learner, models.CourseCompletion, models.Award, models.LedgerEntry,
          models.OutboxClaim)


def stored(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {m.__tablename__: int(session.scalar(select(func.count()).select_from(m)) or 0) for m in STORED}


def post(client: FlaskClient, source: dict[str, Any], body: bytes | Any, **headers: str) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(source["url"], data=data, headers={"Content-Type": "application/json", **headers})


def xapi_auth(source: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{source['name']}:{source['secret']}".encode()).decode()}


def statement(**changes: Any) -> dict[str, Any]:
    body = {"actor": {"account": {"homePage": "https://lrs.example", "name": "ada"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://courses.example/565"}, "timestamp": "2026-03-04T13:38:00Z"}
    body.update(changes)
    return body


@pytest.fixture
def moodle(cli_json: Callable[..., Any], tmp_path: Path) -> dict[str, Any]:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="565", minutes=60, credentials=["iacet-ceu"])
    return dict(source, name="moodle-prod")


@pytest.fixture
def xapi(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return dict(cli_json("sources", "add", "--kind", "xapi", "--name", "lrs"), name="lrs")


@pytest.fixture
def canvas(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return dict(cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod"), name="canvas-prod")


MOODLE_BODIES = {
    "a NUL in the learner id": moodle_completed("4\u00002", 565),
    "a NUL in the course id": moodle_completed("42", "56\u00005"),
    "a NUL in the learner's name": {**moodle_completed("42", 565), "user": {"firstname": "A\u0000da"}},
    "a lone surrogate in the learner id": moodle_completed("4\ud8002", 565),
    "a lone surrogate in an extra field": {**moodle_completed("42", 565), "extra": "\udfff"},
    "a learner id over 255 characters": moodle_completed("7" * 256, 565),
    "relateduserid true": moodle_completed(True, 565),
    "courseid false": moodle_completed("42", False),
    "an event dated year 1": moodle_completed("42", 565, time="0001-01-01T00:00:00Z"),
    "an event dated 1969": moodle_completed("42", 565, time=-1),
    "an event dated next year": moodle_completed("42", 565, time="2999-01-01T00:00:00Z"),
    "a timestamp beyond any calendar": moodle_completed("42", 565, time=10**20),
}


@pytest.mark.parametrize("body", MOODLE_BODIES.values(), ids=MOODLE_BODIES.keys())
def test_a_hostile_moodle_event_is_400_and_nothing_is_stored(
    client: FlaskClient, runtime: Runtime, moodle: dict[str, Any], body: Any
) -> None:
    response = post(client, moodle, body)
    assert response.status_code == 400, response.json
    assert response.json["status"] == "error"
    assert set(stored(runtime).values()) == {0}


XAPI_BODIES = {
    "a duration beyond 64 bits": statement(result={"duration": "PT" + "9" * 25 + "S"}),
    "a duration of ten thousand digits": statement(result={"duration": "PT" + "9" * 10_000 + "S"}),
    "a duration of 10**30 seconds (beyond Decimal's precision)": statement(
        result={"duration": "PT1" + "0" * 30 + "S"}),
    "a duration of more minutes than a completion holds": statement(result={"duration": "P24855134DT3H"}),
    "a NUL in the actor": statement(actor={"account": {"homePage": "https://lrs.example", "name": "a\u0000"}}),
    "a lone surrogate in the verb": statement(verb={"id": "http://x.example/\ud800"}),
    "an activity id over 2000 characters": statement(object={"id": "https://c.example/" + "x" * 2000}),
}


@pytest.mark.parametrize("body", XAPI_BODIES.values(), ids=XAPI_BODIES.keys())
def test_a_hostile_xapi_statement_is_400_and_nothing_is_stored(
    client: FlaskClient, runtime: Runtime, xapi: dict[str, Any], body: Any
) -> None:
    response = post(client, xapi, body, **xapi_auth(xapi))
    assert response.status_code == 400, response.json
    assert set(stored(runtime).values()) == {0}


def test_a_canvas_event_with_a_boolean_user_id_is_400(
    client: FlaskClient, runtime: Runtime, canvas: dict[str, Any]
) -> None:
    envelope = fixture_json("canvas_course_completed.json")
    envelope["body"]["user"]["id"] = True
    assert post(client, canvas, envelope).status_code == 400
    assert set(stored(runtime).values()) == {0}


@pytest.mark.parametrize("kind", ["moodle", "xapi", "canvas"])
def test_json_nested_ten_thousand_levels_is_400_on_every_event_endpoint(
    client: FlaskClient, runtime: Runtime, kind: str, request: pytest.FixtureRequest
) -> None:
    source = request.getfixturevalue(kind)
    headers = xapi_auth(source) if kind == "xapi" else {}
    response = post(client, source, b"[" * 10_000 + b"]" * 10_000, **headers)
    assert response.status_code == 400
    assert set(stored(runtime).values()) == {0}


def test_an_event_that_keeps_failing_is_parked_with_its_error(
    client: FlaskClient, runtime: Runtime, moodle: dict[str, Any], cli_json: Callable[..., Any]
) -> None:
    with refusing_inserts(runtime.engine, "outbox_claims", "1 = 1", "outbox unavailable"):
        assert post(client, moodle, moodle_completed("42", 565)).status_code == 202
        for _ in range(MAX_EVENT_ATTEMPTS + 2):
            reprocess_failed(runtime.sessions, runtime.rulebook)
    with runtime.sessions() as session:
        event = session.scalars(select(models.LmsEvent)).one()
    assert event.status == "parked" and event.attempts == MAX_EVENT_ATTEMPTS
    [parked] = cli_json("events", "parked")
    assert parked["id"] == event.id and "outbox unavailable" in parked["error"]
    assert reprocess_failed(runtime.sessions, runtime.rulebook) == []  # no longer retried
    cli_json("events", "retry", str(event.id))
    [outcome] = reprocess_failed(runtime.sessions, runtime.rulebook)
    assert outcome.status == "credited"
