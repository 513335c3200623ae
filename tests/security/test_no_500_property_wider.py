"""Property, widened: the Canvas parser and the Canvas and xAPI endpoints, the administrator's
mapping form, the learner's outside-credit and renewal forms and dynamic registration, fed the
hostile classes the review found (NUL, lone surrogates, control characters, over-long text, deep
nesting, huge integers, booleans as ids, odd dates): never a 5xx, never "queued" for input alone,
and a refusal stores nothing (hypothesis; modest example counts, the machine is small)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.events.canvas import parse_canvas
from lti_tool.events.completion import BadEvent
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.pages import csrf_token
from tests.lti.platform import ADMINISTRATOR, TestPlatform
from tests.security.test_hostile_events import statement, xapi_auth
from tests.spine import fixture_json, import_mapping
from tests.support.loopback import serve

WATCHED = (models.LmsEvent, models.CourseCompletion, models.Award, models.LedgerEntry, models.OutboxClaim,
           models.CourseMapping, models.OutsideCredit, models.RenewalConfirmation, models.Learner,
           models.LearnerCredential, models.Platform, models.Deployment)

HOSTILE = st.sampled_from(["\x00", "\ud800", "\udfff", "\x1b", "\n", "\u2028", "=", "+", "@", "7", "a", " "])
TEXT = st.text(alphabet=HOSTILE | st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=30)
LONG = st.sampled_from([256, 1001, 2001, 5000]).map(lambda n: "x" * n)
ODD_DATES = st.sampled_from(["0001-01-01", "9999-12-31", "1969-12-31T23:59:59Z", "2024-02-30", "", "2026-13-01",
                             "10000-01-01", "2026-03-04T25:00:00Z", "-1", "1e400", "2026-03-04T13:38:00+99:00"])
HUGE = st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, -1, 0])
DEEP = st.integers(min_value=60, max_value=120).map(lambda n: json.loads("[" * n + "]" * n))
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | HUGE | st.floats()
           | TEXT | LONG | ODD_DATES)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=8) | DEEP
HOSTILE_FORM = st.sampled_from(["a\x00b", "\x00", "line\nbreak", "esc\x1b[2J", "=HYPERLINK(\"x\")", "x" * 600,
                                "\u2028", "\x7f"])
FORM_TEXT = HOSTILE_FORM | st.text(alphabet=st.sampled_from(["\x00", "\n", "\x1b", "=", "7", " "]) | st.characters(codec="utf-8"),
                    max_size=40) | LONG | ODD_DATES | HUGE.map(str)
SOME = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def hostile_fields(valid: dict[str, str], names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    """A valid form with one or two fields hostile, so that each hostile value reaches as far as it can."""
    return st.dictionaries(st.sampled_from(names), FORM_TEXT, min_size=1, max_size=2).map(
        lambda hostile: {**valid, **hostile})


def encoded(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {m.__tablename__: int(session.scalar(select(func.count()).select_from(m)) or 0) for m in WATCHED}


def canvas_variant(where: str, field: str, value: Any) -> dict[str, Any]:
    envelope = fixture_json("canvas_course_completed.json")
    envelope[where][field] = value
    return envelope


CANVAS_FIELDS = st.sampled_from([("body", "user"), ("body", "course"), ("body", "progress"),
                                 ("metadata", "event_name"), ("metadata", "event_time"),
                                 ("metadata", "user_id"), ("metadata", "context_id")])
CANVAS_CHANGES = st.tuples(CANVAS_FIELDS, VALUES | st.fixed_dictionaries(
    {}, optional={"id": SCALARS, "name": TEXT | LONG, "email": TEXT, "completed_at": ODD_DATES | SCALARS}))


@SOME
@given(CANVAS_CHANGES)
def test_the_canvas_parser_answers_a_completion_or_bad_event(change: tuple[tuple[str, str], Any]) -> None:
    (where, field), value = change
    try:
        parse_canvas(encoded(canvas_variant(where, field, value)), jwks_url=None, jwks=None)  # type: ignore[arg-type]
    except BadEvent:
        pass


@pytest.fixture
def canvas(cli_json: Callable[..., Any], tmp_path: Path) -> dict[str, Any]:
    source = dict(cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod"))
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=60, credentials=["iacet-ceu"])
    return source


def test_the_canvas_endpoint_never_answers_5xx(client: FlaskClient, runtime: Runtime, canvas: dict[str, Any]) -> None:
    @SOME
    @given(CANVAS_CHANGES)
    def check(change: tuple[tuple[str, str], Any]) -> None:
        (where, field), value = change
        before = counts(runtime)
        response = client.post(canvas["url"], data=encoded(canvas_variant(where, field, value)),
                               headers={"Content-Type": "application/json"})
        assert response.status_code < 500, response.get_data(as_text=True)
        assert response.json["status"] != "queued", response.json
        if response.status_code >= 400:
            assert counts(runtime) == before

    check()


XAPI_PARTS = st.fixed_dictionaries({}, optional={
    "actor": st.fixed_dictionaries({"account": st.fixed_dictionaries({"homePage": TEXT, "name": SCALARS})})
    | st.fixed_dictionaries({"mbox": TEXT | LONG, "name": TEXT | LONG}) | VALUES,
    "object": st.fixed_dictionaries({"id": SCALARS, "definition": VALUES}),
    "timestamp": ODD_DATES | SCALARS, "result": st.fixed_dictionaries({"duration": TEXT | HUGE.map(lambda n: f"PT{n}S"),
                                                                        "completion": SCALARS}),
    "id": SCALARS})


def test_the_xapi_endpoint_never_answers_5xx(client: FlaskClient, runtime: Runtime, cli_json: Callable[..., Any]) -> None:
    lrs = dict(cli_json("sources", "add", "--kind", "xapi", "--name", "lrs"), name="lrs")

    @SOME
    @given(XAPI_PARTS, st.booleans())
    def check(changes: dict[str, Any], as_array: bool) -> None:
        body = statement(**changes)
        before = counts(runtime)
        response = client.post(lrs["url"], data=encoded([body, body] if as_array else body),
                               headers={"Content-Type": "application/json", **xapi_auth(lrs)})
        assert response.status_code < 500, response.get_data(as_text=True)
        assert (response.json or {}).get("status") != "queued", response.json
        if response.status_code >= 400:
            assert counts(runtime) == before

    check()


VALID_MAPPING = {"title": "HIPAA basics", "minutes": "60", "credentials": "iacet-ceu"}
MAPPING_FIELDS = hostile_fields(VALID_MAPPING, ["title", "minutes", "pilot_minutes", "hours", "category", "sponsor",
                                                "index_number", "activity", "approved_by", "credentials", "live",
                                                "use_measured_time"])


def test_the_mapping_form_never_answers_5xx_and_a_refusal_stores_nothing(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    assert launch(launch.platform.claims(sub="99", roles=ADMINISTRATOR)).status_code == 303
    token = csrf_token(launch.client, "/lti/mapping")

    @SOME
    @given(MAPPING_FIELDS, st.sampled_from(["save", "preview"]))
    def check(fields: dict[str, str], action: str) -> None:
        before = counts(runtime)
        response = launch.client.post("/lti/mapping", data={"csrf_token": token, "action": action, **fields})
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400 or action == "preview":
            assert counts(runtime) == before
        assert launch.client.post("/lti/mapping/preview", data={"csrf_token": token, **fields}).status_code < 500

    check()


@pytest.fixture
def learner(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> tuple[Launcher, str]:
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    token = csrf_token(launch.client, "/lti/learner")
    response = launch.client.post("/lti/learner/credentials", data={
        "csrf_token": token, "credential": "amt-rma", "number": "", "certified_on": "2024-01-01"})
    assert response.status_code < 400, response.get_data(as_text=True)
    return launch, token


VALID_OUTSIDE = {"credential": "amt-rma", "title": "Coding update", "provider": "State society",
                 "date": "2025-04-02", "minutes": "60"}
OUTSIDE_FIELDS = hostile_fields(VALID_OUTSIDE, ["credential", "title", "provider", "date", "minutes", "hours",
                                                "activity", "sponsor", "category", "index_number", "approved_by"])


def test_the_outside_credit_form_never_answers_5xx_and_a_refusal_stores_nothing(
    learner: tuple[Launcher, str], runtime: Runtime
) -> None:
    launch, token = learner

    @SOME
    @given(OUTSIDE_FIELDS)
    def check(fields: dict[str, str]) -> None:
        before = counts(runtime)
        response = launch.client.post("/lti/learner/outside", data={"csrf_token": token, **fields})
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            assert counts(runtime) == before

    check()


def test_the_renewal_item_form_never_answers_5xx_and_a_refusal_stores_nothing(
    learner: tuple[Launcher, str], runtime: Runtime
) -> None:
    launch, token = learner
    held = launch.client.post("/lti/learner/credentials", data={  # FACMPE's items: a membership, hours
        "csrf_token": token, "credential": "acmpe-facmpe", "number": "", "certified_on": "2024-01-01"})
    assert held.status_code < 400, held.get_data(as_text=True)

    @SOME
    @given(st.fixed_dictionaries({"credential": st.sampled_from(["acmpe-facmpe", "amt-rma"]) | FORM_TEXT,
                                  "item": st.sampled_from(["volunteer-service", "mgma-membership"]) | FORM_TEXT},
                                 optional={"confirmed_on": ODD_DATES | FORM_TEXT,
                                           "amount": st.sampled_from(["1e30", "1e-30", "NaN", "-0", "6"]) | FORM_TEXT}))
    def check(fields: dict[str, str]) -> None:
        before = counts(runtime)
        response = launch.client.post("/lti/learner/items", data={"csrf_token": token, **fields})
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            assert counts(runtime) == before

    check()


@contextmanager
def configurable_platform(answers: dict[str, Any]) -> Iterator[str]:
    """A platform whose openid configuration and registration answer are what ``answers`` holds now."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, value: Any) -> None:
            data = encoded(value)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send(answers["configuration"])

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._send(answers["registration"])

    with serve(Handler) as base:
        yield base


REGISTRATION_FIELDS = st.sampled_from(["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                                       "registration_endpoint", "product_family_code", "client_id",
                                       "deployment_id", "client_name"])


def test_dynamic_registration_never_answers_5xx_and_a_refusal_stores_nothing(
    client: FlaskClient, runtime: Runtime
) -> None:
    answers: dict[str, Any] = {}
    addresses = itertools.count(1)
    with configurable_platform(answers) as base:
        honest = TestPlatform()
        honest.base = base

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.dictionaries(REGISTRATION_FIELDS, SCALARS | DEEP, min_size=1, max_size=3))
        def check(changes: dict[str, Any]) -> None:
            configuration = honest.openid_configuration()
            registration = honest.registration_answer()
            for name, value in changes.items():
                if name in ("client_id", "client_name"):
                    registration[name] = value
                elif name == "deployment_id":
                    registration["https://purl.imsglobal.org/spec/lti-tool-configuration"] = {"deployment_id": value}
                elif name == "product_family_code":
                    configuration["https://purl.imsglobal.org/spec/lti-platform-configuration"] = {name: value}
                else:
                    configuration[name] = value
            answers.update(configuration=configuration, registration=registration)
            before = counts(runtime)
            response = client.get("/lti/register", query_string={
                "openid_configuration": f"{base}/.well-known/openid-configuration"},
                environ_base={"REMOTE_ADDR": f"10.0.{next(addresses) // 250}.{next(addresses) % 250}"})
            assert response.status_code < 500, response.get_data(as_text=True)
            if response.status_code >= 400:
                assert counts(runtime) == before

        check()
