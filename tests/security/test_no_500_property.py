"""Property: whatever arrives at an event endpoint, a login or the learner's form, the answer is
never a 5xx (nor, for an event, "queued" for a retry that would fail the same way) and a refusal
stores nothing (hypothesis, modest example counts: the machine is small)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lti_tool.events.completion import BadEvent
from lti_tool.events.moodle import parse_moodle
from lti_tool.events.xapi import parse_xapi
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher, stored_counts
from tests.lti.pages import csrf_token
from tests.lti.platform import TestPlatform
from tests.spine import import_mapping, moodle_completed

HOSTILE_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udfff", "\n", "\r", "\x1b", "\u2028", "=", "7", "a"])
ANY_TEXT = st.text(alphabet=HOSTILE_CHARACTERS | st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF),
                   max_size=40)
SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | ANY_TEXT
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=12)
FIELDS = ["relateduserid", "timecreated", "objectid", "other", "user", "course", "eventname"]
MOODLE_CHANGES = st.fixed_dictionaries({}, optional={
    "relateduserid": ANY_TEXT.filter(str.strip), "objectid": SCALARS,
    "user": st.fixed_dictionaries({}, optional={"firstname": ANY_TEXT, "lastname": ANY_TEXT, "email": ANY_TEXT}),
    "course": st.fixed_dictionaries({}, optional={"fullname": ANY_TEXT}), "other": JSON_VALUES})
SOME = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def moodle_variant(changes: dict[str, Any]) -> bytes:
    return json.dumps({**moodle_completed("42", 565), **changes}, allow_nan=True).encode("utf-8", "surrogatepass")


@SOME
@given(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=3))
def test_the_moodle_parser_answers_a_completion_or_bad_event(changes: dict[str, Any]) -> None:
    try:
        parse_moodle(moodle_variant(changes))
    except BadEvent:
        pass


@SOME
@given(JSON_VALUES)
def test_the_xapi_parser_answers_a_statement_or_bad_event(value: Any) -> None:
    body = {"actor": {"account": {"homePage": "https://l.example", "name": value}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": value}, "timestamp": value, "result": {"duration": value}}
    try:
        parse_xapi(json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass"))
    except BadEvent:
        pass


@SOME
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_the_parsers(body: bytes) -> None:
    for parse in (parse_moodle, parse_xapi):
        try:
            parse(body)
        except BadEvent:
            pass


@pytest.fixture
def moodle(cli_json: Callable[..., Any], tmp_path: Path) -> dict[str, Any]:
    source = dict(cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod"))
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="565", minutes=60, credentials=["iacet-ceu"])
    return source


def test_the_moodle_endpoint_never_answers_5xx(client: FlaskClient, runtime: Runtime, moodle: dict[str, Any]) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(MOODLE_CHANGES)
    def check(changes: dict[str, Any]) -> None:
        response = client.post(moodle["url"], data=moodle_variant(changes),
                               headers={"Content-Type": "application/json"})
        assert response.status_code < 500, response.get_data(as_text=True)
        # "queued" means it could not be stored as parsed, to be retried: never for input alone
        assert response.json["status"] != "queued", response.json

    check()


FORM_TEXT = st.text(alphabet=st.sampled_from(["\x00", "\n", "\x1b", "=", "7"])
                    | st.characters(codec="utf-8", min_codepoint=0), max_size=300)


def test_the_login_never_answers_5xx_and_a_refusal_stores_nothing(
    client: FlaskClient, runtime: Runtime, registered: TestPlatform
) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(["login_hint", "lti_deployment_id", "client_id", "target_link_uri",
                                            "lti_message_hint"]), FORM_TEXT, max_size=3))
    def check(params: dict[str, str]) -> None:
        before = stored_counts(runtime)
        response = client.get("/lti/login", query_string={"iss": registered.issuer, "login_hint": "42", **params})
        assert response.status_code < 500
        if response.status_code >= 400:
            assert stored_counts(runtime) == before

    check()


def test_the_learner_form_never_answers_5xx_and_a_refusal_stores_nothing(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    token = csrf_token(launch.client, "/lti/learner")

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["aama-cma", "iacet-ceu", "nope"]), FORM_TEXT, FORM_TEXT | st.dates().map(str))
    def check(credential: str, number: str, certified_on: str) -> None:
        before = stored_counts(runtime)
        response = launch.client.post("/lti/learner/credentials", data={
            "csrf_token": token, "credential": credential, "number": number, "certified_on": certified_on})
        assert response.status_code < 500
        if response.status_code >= 400:
            assert stored_counts(runtime) == before

    check()
