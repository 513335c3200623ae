"""POST /events/<kind>/<token>: events are stored, credited once, and bad input never half-written."""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.runtime import Runtime
from lti_tool.services.ingestion import reprocess_failed
from tests.spine import fixture_bytes, fixture_json, import_mapping, moodle_completed
from tests.support.triggers import refusing_inserts


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def canvas(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")


@pytest.fixture
def moodle(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")


@pytest.fixture
def xapi(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return cli_json("sources", "add", "--kind", "xapi", "--name", "lrs-feed")


def post_json(client: FlaskClient, url: str, body: Any, **headers: str) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(url, data=data, headers={"Content-Type": "application/json", **headers})


def test_canvas_raw_completion_is_credited_per_mapped_credential(
    client: FlaskClient, canvas: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=90,
                   credentials=["acmss-cmss", "iacet-ceu"])
    response = post_json(client, canvas["url"], fixture_bytes("canvas_course_completed.json"))
    assert response.status_code == 200, response.json
    assert response.json["status"] == "credited"
    awards = {a["credential"]: a for a in cli_json("awards", "list")}
    assert awards["acmss-cmss"]["amount"] == "1.5"
    assert awards["acmss-cmss"]["learner"] == "123"
    assert awards["acmss-cmss"]["course"] == "565"
    assert awards["iacet-ceu"]["amount"] == "0.2"


def test_each_award_of_a_pushed_event_is_logged_at_info(
    client: FlaskClient, canvas: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=90,
                   credentials=["acmss-cmss", "iacet-ceu"])
    caplog.set_level(logging.INFO, logger="lti_tool.services.crediting")
    assert post_json(client, canvas["url"], fixture_bytes("canvas_course_completed.json")).status_code == 200
    lines = sorted(re.sub(r"learner \d+", "learner N", r.getMessage().split(": ", 1)[1]) for r in caplog.records
                   if r.name == "lti_tool.services.crediting" and r.levelno == logging.INFO)
    assert lines == ["acmss-cmss 1.5 CME hours to learner N for course 565",
                     "iacet-ceu 0.2 CEUs to learner N for course 565"], lines


def test_resent_canvas_event_awards_once(
    client: FlaskClient, runtime: Runtime, canvas: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=60, credentials=["acmss-cmss"])
    body = fixture_bytes("canvas_course_completed.json")
    first = post_json(client, canvas["url"], body)
    second = post_json(client, canvas["url"], body)
    assert (first.json["status"], second.json["status"]) == ("credited", "duplicate")
    assert count(runtime, models.Award) == 1
    assert count(runtime, models.OutboxClaim) == 1
    assert count(runtime, models.LmsEvent) == 2  # every accepted request is kept


def test_canvas_refiring_with_a_changed_completion_time_is_a_duplicate(
    client: FlaskClient, runtime: Runtime, canvas: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=60, credentials=["acmss-cmss"])
    later = fixture_json("canvas_course_completed.json")
    earlier = copy.deepcopy(later)
    earlier["body"]["progress"]["completed_at"] = "2019-11-04T10:00:00Z"
    assert post_json(client, canvas["url"], later).json["status"] == "credited"
    assert post_json(client, canvas["url"], earlier).json["status"] == "duplicate"
    assert count(runtime, models.Award) == 1
    assert count(runtime, models.CourseCompletion) == 1


def test_canvas_course_progress_is_acknowledged_and_ignored(
    client: FlaskClient, runtime: Runtime, canvas: dict[str, Any]
) -> None:
    response = post_json(client, canvas["url"], fixture_bytes("canvas_course_progress.json"))
    assert response.status_code == 200
    assert response.json["status"] == "ignored"
    assert count(runtime, models.CourseCompletion) == 0


@pytest.mark.parametrize("user, course", [("42", "7"), (42, 7)], ids=["string-ids", "integer-ids"])
def test_moodle_course_completed_is_credited(
    client: FlaskClient, moodle: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path,
    user: Any, course: Any,
) -> None:
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="7", minutes=60, credentials=["acmss-cmss"])
    response = post_json(client, moodle["url"], moodle_completed(user, course))
    assert response.json["status"] == "credited"
    [award] = cli_json("awards", "list", "--user", "42")
    assert (award["course"], award["amount"]) == ("7", "1")


def test_xapi_statement_uses_measured_duration_when_the_mapping_says_so(
    client: FlaskClient, xapi: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    course = "https://lms.example/course/hipaa"
    import_mapping(cli_json, tmp_path, source="lrs-feed", course=course, minutes=30, max_minutes=120,
                   use_measured_time=True, credentials=["acmss-cmss"])
    statement = {
        "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "actor": {"account": {"homePage": "https://lms.example", "name": "learner-9"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": course, "objectType": "Activity"},
        "result": {"duration": "PT1H45M"},
        "timestamp": "2026-11-01T12:00:00Z",
    }
    auth = base64.b64encode(f"lrs-feed:{xapi['secret']}".encode()).decode()
    response = post_json(client, xapi["url"], [statement], Authorization=f"Basic {auth}")
    assert response.json["status"] == "credited", response.json
    [award] = cli_json("awards", "list")
    assert (award["minutes"], award["amount"]) == (105, "2")


def xapi_completed(course: str, duration: str) -> dict[str, Any]:
    return {
        "actor": {"account": {"homePage": "https://lms.example", "name": "learner-9"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": course, "objectType": "Activity"},
        "result": {"duration": duration},
        "timestamp": "2026-11-01T12:00:00Z",
    }


def post_xapi(client: FlaskClient, xapi: dict[str, Any], statement: dict[str, Any]) -> Any:
    auth = base64.b64encode(f"lrs-feed:{xapi['secret']}".encode()).decode()
    return post_json(client, xapi["url"], [statement], Authorization=f"Basic {auth}")


@pytest.mark.parametrize("mapping, ceiling", [({"minutes": 60}, 60), ({"max_minutes": 90, "minutes": 60}, 90),
                                              ({}, 480)], ids=["minutes", "max_minutes", "eight-hours"])
def test_measured_time_above_the_ceiling_is_credited_at_the_ceiling_and_says_so(
    client: FlaskClient, xapi: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path,
    mapping: dict[str, int], ceiling: int,
) -> None:
    course = "https://lms.example/course/hipaa"
    import_mapping(cli_json, tmp_path, source="lrs-feed", course=course, use_measured_time=True,
                   credentials=["amt-rma"], **mapping)
    assert post_xapi(client, xapi, xapi_completed(course, "PT30H")).json["status"] == "credited"
    [award] = cli_json("awards", "list")
    assert award["minutes"] == ceiling
    assert f"measured 1800 min, credited at the mapping's ceiling of {ceiling} min" in award["reason"]


def test_measured_time_under_the_ceiling_is_credited_as_measured(
    client: FlaskClient, xapi: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path,
) -> None:
    course = "https://lms.example/course/hipaa"
    import_mapping(cli_json, tmp_path, source="lrs-feed", course=course, use_measured_time=True, minutes=60,
                   credentials=["amt-rma"])
    post_xapi(client, xapi, xapi_completed(course, "PT45M"))
    [award] = cli_json("awards", "list")
    assert award["minutes"] == 45 and "ceiling" not in award["reason"]


@pytest.mark.parametrize("duration", ["PT0S", "-PT1H", "an hour"])
def test_a_zero_negative_or_unparseable_duration_is_400_and_stores_nothing(
    client: FlaskClient, runtime: Runtime, xapi: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path,
    duration: str,
) -> None:
    course = "https://lms.example/course/hipaa"
    import_mapping(cli_json, tmp_path, source="lrs-feed", course=course, use_measured_time=True, minutes=60,
                   credentials=["amt-rma"])
    response = post_xapi(client, xapi, xapi_completed(course, duration))
    assert response.status_code == 400
    assert count(runtime, models.LmsEvent) == 0


def test_xapi_without_credentials_is_401_and_stores_nothing(
    client: FlaskClient, runtime: Runtime, xapi: dict[str, Any]
) -> None:
    response = post_json(client, xapi["url"], {"verb": {"id": "x"}})
    assert response.status_code == 401
    wrong = base64.b64encode(b"lrs-feed:not-the-secret").decode()
    assert post_json(client, xapi["url"], {}, Authorization=f"Basic {wrong}").status_code == 401
    assert count(runtime, models.LmsEvent) == 0


def test_unmapped_course_is_kept_and_credited_when_its_mapping_is_imported(
    client: FlaskClient, runtime: Runtime, canvas: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    response = post_json(client, canvas["url"], fixture_bytes("canvas_course_completed.json"))
    assert (response.status_code, response.json["status"]) == (202, "unmapped")
    assert cli_json("awards", "list") == []
    result = import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=45,
                            credentials=["acmss-cmss"])
    assert result["credited_awards"] == 1
    [award] = cli_json("awards", "list")
    assert award["amount"] == "1"
    with runtime.sessions() as session:
        assert session.scalar(select(models.LmsEvent.status)) == "credited"


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"metadata": {"event_name": "course_completed"}}',
                                  b"[1, 2", "\u00e9".encode("latin-1")])
def test_malformed_body_is_400_and_stores_nothing(
    client: FlaskClient, runtime: Runtime, canvas: dict[str, Any], body: bytes
) -> None:
    response = post_json(client, canvas["url"], body)
    assert response.status_code == 400
    assert response.json["error"]
    assert count(runtime, models.LmsEvent) == 0


def test_malformed_moodle_event_is_400(client: FlaskClient, runtime: Runtime, moodle: dict[str, Any]) -> None:
    event = moodle_completed("42", "7")
    event["relateduserid"] = None
    assert post_json(client, moodle["url"], event).status_code == 400
    assert count(runtime, models.LmsEvent) == 0


def test_ids_or_headers_too_long_to_store_are_400_and_store_nothing(
    client: FlaskClient, runtime: Runtime, moodle: dict[str, Any]
) -> None:
    long_course = post_json(client, moodle["url"], moodle_completed("42", "7" * 2001))
    assert long_course.status_code == 400 and "course id is longer" in long_course.json["error"]
    long_type = post_json(client, moodle["url"], moodle_completed("42", "7"),
                          **{"Content-Type": "application/json; profile=" + "x" * 200})
    assert long_type.status_code == 400 and "Content-Type" in long_type.json["error"]
    assert count(runtime, models.LmsEvent) == 0


def test_unknown_token_or_wrong_kind_is_404(client: FlaskClient, canvas: dict[str, Any]) -> None:
    body = fixture_bytes("canvas_course_completed.json")
    assert post_json(client, "/events/canvas/not-a-token", body).status_code == 404
    assert post_json(client, canvas["url"].replace("/canvas/", "/moodle/"), body).status_code == 404


def test_too_large_body_is_413(client: FlaskClient, runtime: Runtime, canvas: dict[str, Any]) -> None:
    limit = runtime.settings.events.max_body_bytes
    response = post_json(client, canvas["url"], b"x" * (limit + 1))
    assert response.status_code == 413
    assert count(runtime, models.LmsEvent) == 0


def test_same_completion_from_two_sources_of_one_lms_awards_once(
    client: FlaskClient, runtime: Runtime, canvas: dict[str, Any], cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    signed_feed = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-second",
                           "--same-identities-as", "canvas-prod")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=60, credentials=["acmss-cmss"])
    body = fixture_bytes("canvas_course_completed.json")
    assert post_json(client, canvas["url"], body).json["status"] == "credited"
    assert post_json(client, signed_feed["url"], body).json["status"] == "duplicate"
    assert count(runtime, models.Award) == 1


def test_crash_mid_processing_writes_no_half_record_and_is_retried(
    client: FlaskClient, runtime: Runtime, canvas: dict[str, Any], cli_json: Callable[..., Any],
    tmp_path: Path,
) -> None:
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=90,
                   credentials=["acmss-cmss", "iacet-ceu"])
    with refusing_inserts(runtime.engine, "outbox_claims", "1 = 1", "outbox unavailable"):
        response = post_json(client, canvas["url"], fixture_bytes("canvas_course_completed.json"))
    assert (response.status_code, response.json["status"]) == (202, "queued")
    for model in (models.Award, models.LedgerEntry, models.OutboxClaim, models.CourseCompletion):
        assert count(runtime, model) == 0, model
    with runtime.sessions() as session:
        event = session.scalars(select(models.LmsEvent)).one()
        assert event.status == "failed" and "outbox unavailable" in event.detail["error"]
    [outcome] = reprocess_failed(runtime.sessions, runtime.rulebook)
    assert outcome.status == "credited"
    assert {a["credential"]: Decimal(a["amount"]) for a in cli_json("awards", "list")} == {
        "acmss-cmss": Decimal("1.5"), "iacet-ceu": Decimal("0.2")}
    assert count(runtime, models.OutboxClaim) == 2


def test_signed_canvas_event_is_credited_and_a_bad_signature_is_401(
    client: FlaskClient, runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    from tests.support.keys import SigningKey, jwks_server

    key, forger = SigningKey("canvas-1"), SigningKey("canvas-1")
    with jwks_server(key) as server:
        source = cli_json("sources", "add", "--kind", "canvas", "--name", "signed", "--jwks-url", server.url)
        import_mapping(cli_json, tmp_path, source="signed", course="565", minutes=60, credentials=["acmss-cmss"])
        claims = fixture_json("canvas_course_completed.json")
        forged = client.post(source["url"], data=forger.sign(claims), content_type="application/jwt")
        assert forged.status_code == 401
        assert count(runtime, models.LmsEvent) == 0
        raw = post_json(client, source["url"], fixture_bytes("canvas_course_completed.json"))
        assert raw.status_code == 401
        good = client.post(source["url"], data=key.sign(claims), content_type="application/jwt")
    assert good.status_code == 200 and good.json["status"] == "credited"
    assert count(runtime, models.LmsEvent) == 1
