"""Hostile values at the LTI login, the launch and the learner's form: a 4xx with nothing stored,
the same on SQLite and PostgreSQL; a stored value out of range never breaks a page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.learners import LearnerKey, add_credential
from tests.lti.conftest import Launcher, stored_counts
from tests.lti.pages import csrf_token
from tests.lti.platform import TestPlatform

CMA = "aama-cma"


@pytest.mark.parametrize("params", [
    {"lti_deployment_id": "\x00"}, {"lti_deployment_id": "d" * 256}, {"login_hint": "\x00"},
    {"client_id": "c\x00"}, {"iss": "https://x.example/" + "i" * 600}, {"lti_message_hint": "h" * 5000},
], ids=["deployment NUL", "deployment over 255", "login_hint NUL", "client_id NUL", "iss over 500",
        "message hint over 4096"])
def test_a_hostile_login_request_is_400_and_stores_nothing(
    client: FlaskClient, runtime: Runtime, registered: TestPlatform, params: dict[str, str]
) -> None:
    before = stored_counts(runtime)
    query = {"iss": registered.issuer, "login_hint": "42", **params}
    response = client.get("/lti/login", query_string=query)
    assert response.status_code == 400
    assert stored_counts(runtime) == before


@pytest.mark.parametrize("claims", [
    {"sub": "4\x002"}, {"sub": "s" * 256}, {"name": "Ada\x00"}, {"sub": "4\ud8002"},
    {"https://purl.imsglobal.org/spec/lti/claim/context": {"id": "c" * 256, "title": "Course"}},
    {"https://purl.imsglobal.org/spec/lti/claim/context": {"id": "56\x005", "title": "Course"}},
], ids=["sub NUL", "sub over 255", "name NUL", "sub lone surrogate", "context id over 255", "context id NUL"])
def test_a_launch_with_hostile_claims_is_400_and_stores_nothing(
    launch: Launcher, runtime: Runtime, claims: dict[str, Any]
) -> None:
    before = stored_counts(runtime)
    response = launch(launch.platform.claims(**claims))
    assert response.status_code == 400
    assert stored_counts(runtime) == before


@pytest.mark.parametrize(("claims", "named"), [
    ({"iss": "https://x.example/" + "i" * 500}, "issuer is longer than 500"),
    ({"aud": "c" * 256}, "client id is longer than 255"),
    ({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "d" * 256}, "deployment id is longer than 255"),
], ids=["iss over 500", "aud over 255", "deployment over 255"])
def test_a_launch_naming_a_registration_longer_than_its_column_is_400_before_any_lookup(
    launch: Launcher, runtime: Runtime, claims: dict[str, Any], named: str
) -> None:
    """The issuer, client id and deployment id are read from the token before its signature is
    checked, to find the platform: one longer than its column is refused before it is asked about."""
    before = stored_counts(runtime)
    [too_long] = claims.values()
    lookups: list[str] = []

    def note_lookup(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if too_long in repr(parameters):
            lookups.append(statement)

    token = launch.platform.sign(launch.platform.claims(**claims))
    event.listen(runtime.engine, "before_cursor_execute", note_lookup)
    try:
        response = launch(token=token)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", note_lookup)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert named in response.get_data(as_text=True)
    assert lookups == [], "the too long name was sent to the database"
    assert stored_counts(runtime) == before


@pytest.mark.parametrize("form", [
    {"credential": CMA, "number": "\x00number:1..2"}, {"credential": CMA, "number": "12\x1b[2J"},
    {"credential": CMA, "certified_on": "9999-12-31"}, {"credential": CMA, "certified_on": "0001-01-01"},
    {"credential": "\x00"},
], ids=["number NUL", "number control character", "certified 9999", "certified year 1", "credential NUL"])
def test_a_hostile_credential_form_is_400_and_stores_nothing(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], form: dict[str, str]
) -> None:
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    token = csrf_token(launch.client, "/lti/learner")
    before = stored_counts(runtime)
    response = launch.client.post("/lti/learner/credentials", data={"csrf_token": token, **form})
    assert response.status_code == 400
    assert stored_counts(runtime) == before


def test_a_stored_certification_date_of_9999_does_not_break_the_learner_page(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, key=LearnerKey(source["id"], "42"), credential=CMA,
                       number="CMA-1", certified_on=date(2026, 1, 1), cycle_start=None)
        session.execute(models.LearnerCredential.__table__.update().values(certified_on=date(9999, 12, 31)))
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    response = launch.client.get("/lti/learner")
    assert response.status_code == 200
    assert "CMA-1" in response.get_data(as_text=True)


@pytest.mark.parametrize("fields", [
    {"title": "HIPAA\x00"}, {"title": "t" * 501}, {"category": "c" * 65}, {"index_number": "1\x00"},
    {"minutes": str(2**40)}, {"credentials": "aama-cma\x00"},
], ids=["title NUL", "title over 500", "category over 64", "index number NUL", "minutes beyond 32 bits",
        "credential NUL"])
def test_a_hostile_course_mapping_form_is_400_and_stores_nothing(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], fields: dict[str, str]
) -> None:
    from tests.lti.pages import mapping_form
    from tests.lti.platform import ADMINISTRATOR

    assert launch(launch.platform.claims(sub="99", roles=ADMINISTRATOR)).status_code == 303
    token = csrf_token(launch.client, "/lti/mapping")
    before = stored_counts(runtime)
    response = launch.client.post("/lti/mapping", data=mapping_form(token, **fields))
    assert response.status_code == 400
    assert stored_counts(runtime) == before


OUTSIDE = {"credential": "amt-rma", "title": "Coding update", "provider": "State society", "date": "2025-04-02",
           "minutes": "60"}


@pytest.mark.parametrize("change", [
    {"title": "a\x00b"}, {"provider": "State\x00society"}, {"title": "Coding\nForged line"},
    {"sponsor": "MGMA\x00"}, {"category": "clinical\x1b[2J"}, {"index_number": "12\n34"},
    {"approved_by": "AAMA\x00"}, {"sponsor": "s" * 201}, {"minutes": str(2**63)}, {"minutes": "", "hours": "1e40"},
], ids=["title NUL", "provider NUL", "title line break", "sponsor NUL", "category control character",
        "index number line break", "approving body NUL", "sponsor over 200", "minutes beyond 64 bits",
        "hours beyond the column"])
def test_a_hostile_outside_credit_form_is_400_and_stores_nothing(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], change: dict[str, str]
) -> None:
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    token = csrf_token(launch.client, "/lti/learner")
    held = launch.client.post("/lti/learner/credentials", data={
        "csrf_token": token, "credential": "amt-rma", "certified_on": "2024-01-01"})
    assert held.status_code == 303
    with runtime.sessions() as session:
        before = session.query(models.OutsideCredit).count()
    response = launch.client.post("/lti/learner/outside", data={"csrf_token": token, **OUTSIDE, **change})
    assert response.status_code == 400, response.get_data(as_text=True)
    with runtime.sessions() as session:
        assert session.query(models.OutsideCredit).count() == before
    assert launch.client.post("/lti/learner/outside", data={"csrf_token": token, **OUTSIDE}).status_code == 303


@pytest.mark.parametrize("title", ["Credit\x00", "Credit\nForged line", "t" * 256, "Credit \x1b[2J"],
                         ids=["NUL", "line break", "over 255", "control character"])
def test_a_hostile_deep_link_title_is_400_and_nothing_is_signed(launch: Launcher, title: str) -> None:
    from tests.lti.platform import INSTRUCTOR
    from tests.lti.test_endpoints import deep_linking_claims

    assert launch(deep_linking_claims(launch.platform, INSTRUCTOR)).status_code == 303
    token = csrf_token(launch.client, "/lti/deep-link")
    response = launch.client.post("/lti/deep-link", data={"csrf_token": token, "title": title})
    assert response.status_code == 400
    assert "JWT" not in response.get_data(as_text=True)
    placed = launch.client.post("/lti/deep-link", data={"csrf_token": token, "title": "t" * 255})
    assert placed.status_code == 200 and 'name="JWT"' in placed.get_data(as_text=True)
