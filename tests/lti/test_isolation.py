"""Least privilege on every route, and no data of one platform visible from another.

The tables below name every route of the pages behind a launch; a test reads the app's URL map and
fails when a route is added without a row here, so no route escapes these checks. Exports here go by
SMTP to a closed port with one attempt allowed, so platform A's award ends in a dead batch that A's
administrator may retry and nobody else may.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.settings import Settings
from tests.lti.conftest import Launcher
from tests.lti.exports import dead_letter_settings, export_tick
from tests.lti.pages import CREDENTIAL, complete, csrf_token, mapping_form
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR, LEARNER, TestPlatform
from tests.lti.test_endpoints import deep_linking_claims

PAGE_BLUEPRINTS = ("lti_pages", "lti_learner", "lti_reconcile", "lti_parked")
EVERYONE = {"learner", "instructor", "administrator"}
STAFF = {"instructor", "administrator"}
ADMIN = {"administrator"}

# (method, rule) -> (roles allowed, status when allowed)
ROUTES: dict[tuple[str, str], tuple[set[str], int]] = {
    ("GET", "/lti/home"): (EVERYONE, 303),
    ("GET", "/lti/learner"): (EVERYONE, 200),
    ("POST", "/lti/learner/credentials"): (EVERYONE, 303),
    ("POST", "/lti/learner/reminders"): (EVERYONE, 303),
    ("GET", "/lti/certificates/<int:award_id>.pdf"): (EVERYONE, 200),
    ("GET", "/lti/learner/badges/<int:award_id>.jwt"): (EVERYONE, 200),
    ("GET", "/lti/learner/audit-packet/<credential>"): (EVERYONE, 200),
    ("GET", "/lti/learner/transcript/<credential>.<any(pdf, csv):kind>"): (EVERYONE, 200),
    ("GET", "/lti/course"): (STAFF, 200),
    ("GET", "/lti/course.csv"): (STAFF, 200),
    ("GET", "/lti/mapping"): (ADMIN, 200),
    ("POST", "/lti/mapping"): (ADMIN, 200),
    ("POST", "/lti/mapping/preview"): (ADMIN, 200),
    ("GET", "/lti/mapping/courses/<path:course_id>"): (ADMIN, 303),  # 303: the launch's own course
    ("POST", "/lti/exports/<int:batch_id>/retry"): (ADMIN, 303),
    ("POST", "/lti/events/<int:event_id>/retry"): (ADMIN, 303),
    ("GET", "/lti/deep-link"): (STAFF, 200),
    ("POST", "/lti/deep-link"): (STAFF, 200),
    ("POST", "/lti/reconcile"): (STAFF, 409),  # 409: the test platform's source is not connected
}
ROLES = {"learner": LEARNER, "instructor": INSTRUCTOR, "administrator": ADMINISTRATOR}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return dead_letter_settings(database_url, tmp_path)


def path_of(rule: str, award_id: int = 1, batch_id: int = 1, event_id: int = 1) -> str:
    return (rule.replace("<int:award_id>", str(award_id)).replace("<int:batch_id>", str(batch_id))
            .replace("<int:event_id>", str(event_id))
            .replace("<credential>", CREDENTIAL).replace("<any(pdf, csv):kind>", "pdf")
            .replace("<path:course_id>", "565"))


def page_routes(app: Flask) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".")[0] in PAGE_BLUEPRINTS
            for method in rule.methods or () if method in ("GET", "POST")}


def test_every_page_route_is_in_the_isolation_tables(app: Flask) -> None:
    assert page_routes(app) == set(ROUTES)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_page_needs_a_launch(route: tuple[str, str], client: Any) -> None:
    method, rule = route
    response = client.open(path_of(rule), method=method)
    assert response.status_code in (400, 401)  # a POST without a launch fails CSRF first
    if method == "GET":
        assert "open the tool from your course" in response.get_data(as_text=True)


def request_route(launch: Launcher, method: str, rule: str, award_id: int, batch_id: int,
                  event_id: int = 1) -> Any:
    path = path_of(rule, award_id, batch_id, event_id)
    if method == "GET":
        return launch.client.get(path)
    token = csrf_token(launch.client, "/lti/learner")
    forms = {"/lti/learner/credentials": {"credential": CREDENTIAL, "number": "N-1"},
             "/lti/learner/reminders": {"reminders": "off"},
             "/lti/mapping": mapping_form(token, action="preview"),
             "/lti/mapping/preview": mapping_form(token),
             "/lti/deep-link": {"title": "CE credit"}, "/lti/exports/<int:batch_id>/retry": {},
             "/lti/reconcile": {}, "/lti/events/<int:event_id>/retry": {}}
    return launch.client.post(path, data={"csrf_token": token, **forms[rule]})


@pytest.fixture
def award_id(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> int:
    """User 42 holds an award in course 565 (mapped by an administrator of the platform)."""
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")
    launch(launch.platform.claims(sub="99", roles=ADMINISTRATOR))
    token = csrf_token(launch.client, "/lti/mapping")
    assert launch.client.post("/lti/mapping", data=mapping_form(token)).status_code == 200
    with read_session(runtime.sessions) as session:
        found = session.scalar(select(models.Award.id))
    assert found is not None
    return found


@pytest.fixture
def batch_id(award_id: int, runtime: Runtime) -> int:
    """The award's claim went to a dead batch (the SMTP port is closed, one attempt allowed)."""
    [failed] = export_tick(runtime)["failed"]
    assert failed["dead"] is True
    return int(failed["batch"])


@pytest.fixture
def event_id(award_id: int, runtime: Runtime) -> int:
    """The event behind the award, parked as if it had failed ten times."""
    with write_session(runtime.sessions) as session:
        event = session.scalars(select(models.LmsEvent)).one()
        event.status, event.detail = models.EventStatus.PARKED, {"error": "KeyError: 'course'"}
        return event.id


def event_status(runtime: Runtime, event_id: int) -> str:
    with read_session(runtime.sessions) as session:
        event = session.get(models.LmsEvent, event_id)
        assert event is not None
        return event.status


def batch_status(runtime: Runtime, batch_id: int) -> str:
    with read_session(runtime.sessions) as session:
        batch = session.get(models.ExportBatch, batch_id)
        assert batch is not None
        return batch.status


def audit_actions(runtime: Runtime) -> list[str]:
    with read_session(runtime.sessions) as session:
        return list(session.scalars(select(models.AuditEntry.action).order_by(models.AuditEntry.id)))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_its_routes(
    role: str, launch: Launcher, award_id: int, batch_id: int, event_id: int, runtime: Runtime
) -> None:
    for (method, rule), (allowed, ok) in sorted(ROUTES.items()):
        claims = (deep_linking_claims(launch.platform, ROLES[role]) if rule == "/lti/deep-link"
                  else launch.platform.claims(roles=ROLES[role]))
        assert launch(claims).status_code == 303
        response = request_route(launch, method, rule, award_id, batch_id, event_id)
        expected = ok if role in allowed else 403
        assert response.status_code == expected, (role, method, rule, response.get_data(as_text=True)[:300])
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(models.CourseMapping)) == 1
    retried = role == "administrator"
    assert audit_actions(runtime) == ["mapping.save"] + ["event.retried", "export.retry"] * retried
    assert batch_status(runtime, batch_id) == ("pending" if retried else "dead")
    assert event_status(runtime, event_id) == ("failed" if retried else "parked")


def test_an_instructors_rights_end_at_the_launchs_own_course(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], award_id: int
) -> None:
    complete(runtime, source["id"], "43", "777", name="Other Course Learner")
    other_course = {"https://purl.imsglobal.org/spec/lti/claim/context": {"id": "777"}}
    assert launch(launch.platform.claims(sub="7", roles=INSTRUCTOR, **other_course)).status_code == 303
    assert "Ada Lovelace" not in launch.client.get("/lti/course").get_data(as_text=True)
    assert "Ada Lovelace" not in launch.client.get("/lti/course.csv").get_data(as_text=True)


def mapping_of(runtime: Runtime, source_name: str) -> tuple[int | None, str | None]:
    with read_session(runtime.sessions) as session:
        source_id = session.scalar(select(models.Source.id).where(models.Source.name == source_name))
        mapping = session.scalar(select(models.CourseMapping).where(models.CourseMapping.source_id == source_id))
        return (mapping.minutes, mapping.title) if mapping else (None, None)


def test_another_platforms_users_see_and_change_none_of_this_platforms_data(
    launch: Launcher, other_platform: TestPlatform, runtime: Runtime, award_id: int, batch_id: int,
    event_id: int
) -> None:
    """Same user id (42), same course id (565), another LMS: every route answers from its own data."""
    other = Launcher(launch.client, other_platform)
    seen: set[tuple[str, str]] = set()

    def check(method: str, rule: str, roles: list[str], claims: dict[str, Any] | None = None) -> Any:
        seen.add((method, rule))
        assert other(claims or other_platform.claims(sub="42", roles=roles)).status_code == 303
        response = request_route(other, method, rule, award_id, batch_id, event_id)
        assert response.status_code < 500
        return response

    assert check("GET", "/lti/home", LEARNER).location.endswith("/lti/learner")
    assert "No credit yet" in check("GET", "/lti/learner", LEARNER).get_data(as_text=True)
    assert check("GET", "/lti/certificates/<int:award_id>.pdf", LEARNER).status_code == 404
    assert check("GET", "/lti/learner/badges/<int:award_id>.jwt", LEARNER).status_code == 404
    assert check("GET", "/lti/learner/audit-packet/<credential>", LEARNER).status_code == 404
    assert check("GET", "/lti/learner/transcript/<credential>.<any(pdf, csv):kind>", LEARNER).status_code == 404
    assert check("POST", "/lti/learner/credentials", LEARNER).status_code == 303
    with read_session(runtime.sessions) as session:  # the number went to platform B's learner only
        [(source_name,)] = session.execute(
            select(models.Source.name).join(models.Learner, models.Learner.source_id == models.Source.id)
            .join(models.LearnerCredential, models.LearnerCredential.learner_id == models.Learner.id)).all()
    assert source_name == "moodle-2"
    assert check("POST", "/lti/learner/reminders", LEARNER).status_code == 303
    with read_session(runtime.sessions) as session:  # the opt-out went to platform B's learner only
        [(opted_out_source,)] = session.execute(
            select(models.Source.name).join(models.Learner, models.Learner.source_id == models.Source.id)
            .join(models.ReminderOptOut, models.ReminderOptOut.learner_id == models.Learner.id)).all()
    assert opted_out_source == "moodle-2"
    assert "Ada Lovelace" not in check("GET", "/lti/course", INSTRUCTOR).get_data(as_text=True)
    assert check("GET", "/lti/course.csv", INSTRUCTOR).get_data(as_text=True).count("\n") == 1
    admin_page = check("GET", "/lti/mapping", ADMINISTRATOR).get_data(as_text=True)
    assert "HIPAA basics" not in admin_page
    assert "SMTP" not in admin_page and f'data-batch="{batch_id}"' not in admin_page
    assert 'data-count="dead">0<' in admin_page and 'data-count="dead">1<' not in admin_page
    assert check("POST", "/lti/exports/<int:batch_id>/retry", ADMINISTRATOR).status_code == 404
    assert batch_status(runtime, batch_id) == "dead"
    assert f'data-event="{event_id}"' not in admin_page and "KeyError" not in admin_page
    assert check("POST", "/lti/events/<int:event_id>/retry", ADMINISTRATOR).status_code == 404
    assert event_status(runtime, event_id) == "parked"
    assert check("GET", "/lti/mapping/courses/<path:course_id>", ADMINISTRATOR).status_code == 404  # A's 565
    assert check("POST", "/lti/mapping/preview", ADMINISTRATOR).get_json()["lines"][0]["credential"] == CREDENTIAL
    token = csrf_token(other.client, "/lti/mapping")
    saved = other.client.post("/lti/mapping", data=mapping_form(token, minutes="600", title="B's course"))
    assert saved.status_code == 200 and "0 award(s) made" in saved.get_data(as_text=True)
    check("POST", "/lti/mapping", ADMINISTRATOR)
    assert mapping_of(runtime, "moodle-1") == (120, "HIPAA basics")
    assert mapping_of(runtime, "moodle-2") == (600, "B's course")
    dl = deep_linking_claims(other_platform, INSTRUCTOR)
    assert check("GET", "/lti/deep-link", INSTRUCTOR, dl).status_code == 200
    page = check("POST", "/lti/deep-link", INSTRUCTOR, dl).get_data(as_text=True)
    signed = re.search(r'name="JWT" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    message = jwt.decode(signed, options={"verify_signature": False})
    assert message["aud"] in (other_platform.issuer, [other_platform.issuer])
    assert message["iss"] == other_platform.client_id
    assert message["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "deployment-b"
    assert check("POST", "/lti/reconcile", ADMINISTRATOR).status_code == 409  # B's own source, unconnected
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(models.ReconcileRequest)) == 0
    assert seen == set(ROUTES)
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(models.Award)) == 1


def test_a_token_of_one_platform_cannot_launch_as_another(
    launch: Launcher, other_platform: TestPlatform, runtime: Runtime
) -> None:
    """Platform B signs a token claiming platform A's issuer: A's keys do not verify it."""
    body = launch.platform.claims()
    response = launch(body, key=other_platform.key)
    assert response.status_code == 401
