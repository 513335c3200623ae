"""Login CSRF: an attacker's id_token and state, posted from a victim's browser, must not sign the
victim in as the attacker. A launch without the state cookie is accepted only when the platform's
client-side storage (``lti.put_data`` / ``lti.get_data``) in that browser held the login's proof, and
the proof was posted from the tool's own origin. The browser half is tests/browser/test_lti_storage.py."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from lti_tool.web.lti.launch import STATE_COOKIE, STORAGE_FIELD
from tests.lti.conftest import stored_counts
from tests.lti.platform import TestPlatform

TOOL = "http://localhost"


def attribute(page: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', page)
    assert match, f"{name} not in {page}"
    return unescape(match.group(1))


def storage_login(client: FlaskClient, platform: TestPlatform, target: str = "lti-storage") -> dict[str, str]:
    """The login with the platform's lti_storage_target: the page's proof and the auth URL's query."""
    response = client.get("/lti/login", query_string={
        "iss": platform.issuer, "login_hint": "u", "client_id": platform.client_id,
        "lti_storage_target": target})
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    query = {k: v[0] for k, v in parse_qs(urlsplit(attribute(page, "data-next")).query).items()}
    return {**query, "page": page, "key": attribute(page, "data-key"), "value": attribute(page, "data-value"),
            "target": attribute(page, "data-target"), "origins": attribute(page, "data-origins")}


def launch_token(platform: TestPlatform, nonce: str, sub: str = "42") -> str:
    return platform.sign(platform.claims(sub=sub, nonce=nonce))


def without_state_cookie(client: FlaskClient) -> None:
    client.delete_cookie(STATE_COOKIE, path="/")


def sessions(runtime: Runtime) -> int:
    with read_session(runtime.sessions) as db:
        return db.scalar(select(func.count()).select_from(models.LaunchSession)) or 0


def used_nonces(runtime: Runtime) -> int:
    """Logins used up (a login's state is signed, not stored: its nonce, once used, ends it)."""
    with read_session(runtime.sessions) as db:
        return db.scalar(select(func.count()).select_from(models.UsedNonce)) or 0


def post_back(client: FlaskClient, token: str, state: str, value: str, **headers: str) -> TestResponse:
    return client.post("/lti/launch", data={"id_token": token, "state": state, STORAGE_FIELD: value},
                       headers={"Origin": TOOL, "Sec-Fetch-Site": "same-origin", **headers})


def test_a_login_with_a_storage_target_answers_a_page_that_stores_the_proof_then_goes_on(
    client: FlaskClient, registered: TestPlatform, runtime: Runtime
) -> None:
    before = stored_counts(runtime)
    login = storage_login(client, registered)
    assert login["target"] == "lti-storage"
    assert login["key"] == f"lti_tool_state_{login['state']}"
    assert login["value"] and login["value"] != login["state"]
    assert login["origins"] == f'["{registered.base}"]'  # the auth URL's origin (= the issuer's here)
    assert login["redirect_uri"] == f"{TOOL}/lti/launch" and login["nonce"]
    assert 'src="/static/lti_storage.js"' in login["page"] and "<script>" not in login["page"]
    assert client.get_cookie(STATE_COOKIE, path="/").value == login["state"]
    assert stored_counts(runtime) == before, "the login's state is signed, not stored"


def test_a_login_without_a_storage_target_still_redirects(client: FlaskClient, registered: TestPlatform) -> None:
    response = client.get("/lti/login", query_string={"iss": registered.issuer, "login_hint": "u"})
    assert response.status_code == 302 and response.location.startswith(f"{registered.base}/auth?")


def test_a_launch_without_the_state_cookie_is_answered_by_a_page_that_asks_the_storage(
    client: FlaskClient, registered: TestPlatform, runtime: Runtime
) -> None:
    login = storage_login(client, registered)
    without_state_cookie(client)
    token = launch_token(registered, login["nonce"])
    before = stored_counts(runtime)
    response = client.post("/lti/launch", data={"id_token": token, "state": login["state"],
                                                "lti_storage_target": "lti-storage"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert attribute(page, "data-mode") == "get" and attribute(page, "data-key") == login["key"]
    assert attribute(page, "data-target") == "lti-storage"
    assert login["value"] not in page, "the proof comes from the platform's storage, never from the tool"
    assert stored_counts(runtime) == before and used_nonces(runtime) == 0 and sessions(runtime) == 0


def test_a_cookieless_launch_with_the_storage_proof_from_the_tools_page_is_accepted(
    client: FlaskClient, registered: TestPlatform, runtime: Runtime
) -> None:
    login = storage_login(client, registered)
    without_state_cookie(client)
    response = post_back(client, launch_token(registered, login["nonce"]), login["state"], login["value"])
    assert response.status_code == 303, response.get_data(as_text=True)
    assert sessions(runtime) == 1 and used_nonces(runtime) == 1
    assert client.get("/lti/home").status_code == 303


@pytest.mark.parametrize(("value", "headers", "status"), [
    (None, {}, 401),
    ("", {}, 401),
    ("not-the-proof", {}, 401),
    ("proof", {"Origin": "http://attacker.example"}, 403),
    ("proof", {"Origin": "null"}, 403),
    ("proof", {"Origin": ""}, 403),
    ("proof", {"Sec-Fetch-Site": "cross-site"}, 403),
    ("proof", {"Sec-Fetch-Site": "same-site"}, 403),
], ids=["storage answered nothing", "empty answer", "another login's proof", "cross-site post",
        "opaque origin", "no origin", "fetch metadata cross-site", "fetch metadata same-site"])
def test_a_cookieless_launch_without_a_valid_storage_proof_is_refused_and_stores_nothing(
    client: FlaskClient, registered: TestPlatform, runtime: Runtime, value: str | None,
    headers: dict[str, str], status: int
) -> None:
    login = storage_login(client, registered)
    other = storage_login(client, registered)
    without_state_cookie(client)
    proofs: dict[str | None, str] = {None: other["value"], "proof": login["value"]}
    before = stored_counts(runtime)
    token = launch_token(registered, login["nonce"])
    response = post_back(client, token, login["state"], proofs.get(value, value or ""), **headers)
    assert response.status_code == status, response.get_data(as_text=True)
    assert "cannot be opened" in response.get_data(as_text=True)
    assert stored_counts(runtime) == before and sessions(runtime) == 0 and used_nonces(runtime) == 0
    assert post_back(client, token, login["state"], login["value"]).status_code == 303, "the login is still usable"


def test_an_attackers_login_replayed_in_a_victims_browser_is_refused(
    client: FlaskClient, app: Any, registered: TestPlatform, runtime: Runtime
) -> None:
    """The attacker logs in in their own browser (and sees their proof), then makes the victim's
    browser post their id_token, state and proof from the attacker's site."""
    attacker = app.test_client()
    login = storage_login(attacker, registered)
    token = launch_token(registered, login["nonce"], sub="attacker")
    plain = client.post("/lti/launch", data={"id_token": token, "state": login["state"]},
                        headers={"Origin": "http://attacker.example", "Sec-Fetch-Site": "cross-site"})
    assert plain.status_code == 200 and sessions(runtime) == 0, "only the storage page, nothing recorded"
    forged = post_back(client, token, login["state"], login["value"],
                       Origin="http://attacker.example", **{"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403
    assert sessions(runtime) == 0 and client.get("/lti/home").status_code == 401


def test_a_used_login_is_refused_before_the_storage_is_asked(
    client: FlaskClient, registered: TestPlatform, runtime: Runtime
) -> None:
    login = storage_login(client, registered)
    without_state_cookie(client)
    token = launch_token(registered, login["nonce"])
    assert post_back(client, token, login["state"], login["value"]).status_code == 303
    again = client.post("/lti/launch", data={"id_token": token, "state": login["state"]})
    assert again.status_code == 401 and sessions(runtime) == 1


@pytest.mark.parametrize("target", ["\x00", "t" * 101, "lti\x1b"], ids=["NUL", "over 100", "control character"])
def test_a_hostile_storage_target_at_login_is_400_and_stores_nothing(
    client: FlaskClient, registered: TestPlatform, runtime: Runtime, target: str
) -> None:
    before = stored_counts(runtime)
    response = client.get("/lti/login", query_string={
        "iss": registered.issuer, "login_hint": "u", "lti_storage_target": target})
    assert response.status_code == 400 and stored_counts(runtime) == before
