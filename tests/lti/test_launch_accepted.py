"""Launches the tool accepts, and what each one stores: who the user is and which page they see."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from lti_tool.web.app import create_app
from tests.lti.conftest import Launcher, stored_counts
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR, LEARNER, LTI, ROLE, TestPlatform


def only_session(runtime: Runtime) -> models.LaunchSession:
    with read_session(runtime.sessions) as session:
        rows = list(session.scalars(select(models.LaunchSession)))
        session.expunge_all()
    assert len(rows) == 1
    return rows[0]


def home(launch: Launcher, body: dict[str, Any]) -> str:
    response = launch(body)
    assert response.status_code == 303, response.get_data(as_text=True)
    page = launch.client.get(response.location, follow_redirects=True)
    assert page.status_code == 200
    return page.get_data(as_text=True)


ROLE_CASES = {
    "learner": (LEARNER, "learner"),
    "instructor with several roles": ([ROLE + "Instructor", ROLE + "Mentor", "urn:x:unknown"], "instructor"),
    "short role names": (["Instructor"], "instructor"),
    "teaching assistant": ([ROLE + "Instructor#TeachingAssistant"], "instructor"),
    "teaching assistant sub-role": (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"],
                                    "instructor"),
    "learner with several roles": ([ROLE + "Learner", ROLE + "Mentor",
                                    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"], "learner"),
    "learner short role name": (["Learner"], "learner"),
    "learner sub-role": (["http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#NonCreditLearner"], "learner"),
    "system administrator only": (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"], "learner"),
    "mentor is no instructor": ([ROLE + "Mentor"], "learner"),
    "administrator": (ADMINISTRATOR, "administrator"),
    "content developer": ([ROLE + "ContentDeveloper"], "administrator"),
    "unknown roles only": (["http://example.org/roles#Wizard"], "learner"),
    "no roles": ([], "learner"),
    "an empty role": ([""], "learner"),
}


@pytest.mark.parametrize("case", ROLE_CASES, ids=list(ROLE_CASES))
def test_roles_give_the_least_privilege_page(case: str, launch: Launcher, runtime: Runtime) -> None:
    roles, expected = ROLE_CASES[case]
    response = launch(launch.platform.claims(roles=roles))
    assert response.status_code == 303
    assert only_session(runtime).role == expected


def test_an_instructor_without_a_course_context_sees_the_learner_page(launch: Launcher, runtime: Runtime) -> None:
    launch(launch.platform.claims(roles=INSTRUCTOR, **{LTI + "context": None}))
    assert only_session(runtime).role == "learner"


@pytest.mark.parametrize("who", ["learner", "instructor"])
@pytest.mark.parametrize("personal", [
    {"email": "only@example.org", "name": None},
    {"email": None, "name": None, "given_name": "Grace", "family_name": "Hopper"},
    {"email": None, "name": None},
], ids=["email only", "names only", "no personal data"])
def test_personal_data_is_optional(personal: dict[str, Any], who: str, launch: Launcher, runtime: Runtime) -> None:
    roles, heading = {"learner": (LEARNER, "Your continuing-education credit"),
                      "instructor": (INSTRUCTOR, "Learners of this course")}[who]
    page = home(launch, launch.platform.claims(roles=roles, **personal))
    assert heading in page
    with read_session(runtime.sessions) as session:
        learner = session.scalar(select(models.Learner))
        session.expunge_all()
    assert learner is not None and learner.lms_user_id == "42"
    expected_name = "Grace Hopper" if personal.get("given_name") else None
    assert learner.name == expected_name
    assert learner.email == personal.get("email")


@pytest.mark.parametrize("skew", [-60, -30, 30, 60])
def test_a_platform_clock_up_to_a_minute_off_is_accepted(skew: int, launch: Launcher, runtime: Runtime) -> None:
    now = int(time.time()) + skew
    response = launch(launch.platform.claims(iat=now, exp=now + 30))
    assert response.status_code == 303, response.get_data(as_text=True)


def test_a_launch_consumes_its_nonce_and_with_it_its_state(launch: Launcher, runtime: Runtime) -> None:
    from tests.lti.conftest import login

    auth = login(launch.client, launch.platform)
    token = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"]))
    assert launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]}).status_code == 303
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.UsedNonce.nonce)) == auth["nonce"]
    assert stored_counts(runtime)["lti_launch_sessions"] == 1
    again = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"], jti="a-second-token"))
    replayed = launch.client.post("/lti/launch", data={"id_token": again, "state": auth["state"]})
    assert replayed.status_code == 401 and "nonce replayed" in replayed.get_data(as_text=True)
    assert stored_counts(runtime)["lti_launch_sessions"] == 1


def set_cookie_header(response: Any, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


def test_the_launch_cookies_are_httponly_and_lax_over_plain_http(launch: Launcher) -> None:
    state_cookie = set_cookie_header(launch.client.get("/lti/login", query_string={
        "iss": launch.platform.issuer, "login_hint": "u", "client_id": launch.platform.client_id}), "lti_tool_state")
    response = launch()
    assert response.status_code == 303, response.get_data(as_text=True)
    for cookie in (state_cookie, set_cookie_header(response, "lti_tool_session")):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        assert "Path=/;" in cookie and "Domain=" not in cookie and "__Host-" not in cookie


HTTPS = "https://localhost"


def https_login(launch: Launcher) -> tuple[dict[str, str], str]:
    """The OIDC login over HTTPS: the query the tool sent to the platform, and its state cookie."""
    started = launch.client.get("/lti/login", base_url=HTTPS, query_string={
        "iss": launch.platform.issuer, "login_hint": "u", "client_id": launch.platform.client_id,
        "target_link_uri": f"{HTTPS}/lti/launch"})
    assert started.status_code == 302, started.get_data(as_text=True)
    return ({k: v[0] for k, v in parse_qs(urlsplit(started.location).query).items()},
            set_cookie_header(started, "__Host-lti_tool_state"))


def test_over_https_cookies_are_host_prefixed_secure_samesite_none_partitioned(
    launch: Launcher, runtime: Runtime
) -> None:
    """``__Host-``: the browser keeps the cookie only as this host set it, so a sibling subdomain
    cannot plant one for the tool (``Secure``, ``Path=/`` and no ``Domain``, as the prefix requires)."""
    auth, state_cookie = https_login(launch)
    token = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"]))
    response = launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, base_url=HTTPS)
    assert response.status_code == 303, response.get_data(as_text=True)
    session_cookie = set_cookie_header(response, "__Host-lti_tool_session")
    for cookie in (state_cookie, session_cookie, set_cookie_header(response, "__Host-lti_tool_state")):
        for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly", "Path=/;"):
            assert attribute in cookie, cookie
        assert "Domain=" not in cookie, cookie
    assert launch.client.get("/lti/home", base_url=HTTPS).status_code == 303  # signed in by that cookie
    assert only_session(runtime).role == "learner"


def test_over_https_the_session_cookie_stays_host_only_at_the_root_whatever_flask_is_configured_with(
    runtime: Runtime, registered: TestPlatform
) -> None:
    """A browser refuses a ``__Host-`` cookie that names a ``Domain`` or another path than ``/``:
    Flask's session cookie settings must not give it one."""
    app = create_app(runtime, {"TESTING": True, "SESSION_COOKIE_DOMAIN": "localhost",
                               "SESSION_COOKIE_PATH": "/x", "APPLICATION_ROOT": "/app"})
    launch = Launcher(app.test_client(), registered)
    auth, _ = https_login(launch)
    token = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"]))
    response = launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, base_url=HTTPS)
    assert response.status_code == 303, response.get_data(as_text=True)
    cookie = set_cookie_header(response, "__Host-lti_tool_session")
    assert "Path=/;" in cookie and "Domain=" not in cookie, cookie


def test_over_https_a_state_cookie_planted_under_the_bare_name_binds_no_launch(
    launch: Launcher, runtime: Runtime
) -> None:
    """A sibling subdomain can set ``lti_tool_state`` for the tool's host, never ``__Host-lti_tool_state``:
    an attacker's login planted that way in a victim's browser is not the victim's login."""
    auth, _ = https_login(launch)  # the attacker's own login
    launch.client.delete_cookie("__Host-lti_tool_state", path="/")
    launch.client.set_cookie("lti_tool_state", auth["state"], path="/")
    token = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"]))
    planted = launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, base_url=HTTPS)
    # As with no state cookie at all: the platform's storage is asked for the login's proof, which
    # the attacker's login never left in the victim's platform frame (tests/security/test_login_csrf.py).
    assert planted.status_code == 200 and 'data-mode="get"' in planted.get_data(as_text=True)
    assert stored_counts(runtime)["lti_launch_sessions"] == 0 and stored_counts(runtime)["lti_used_nonces"] == 0
    launch.client.set_cookie("__Host-lti_tool_state", auth["state"], path="/", secure=True)
    as_the_tool_set_it = launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]},
                                            base_url=HTTPS)
    assert as_the_tool_set_it.status_code == 303, as_the_tool_set_it.get_data(as_text=True)


def test_over_https_a_session_cookie_planted_under_the_bare_name_signs_nobody_in(launch: Launcher) -> None:
    """The attacker's own signed session (from a launch of theirs), planted under the bare name,
    does not show a victim the attacker's pages over HTTPS."""
    response = launch()
    assert response.status_code == 303, response.get_data(as_text=True)
    cookie = launch.client.get_cookie("lti_tool_session")
    assert cookie is not None
    assert launch.client.get("/lti/home").status_code == 303  # the attacker's own session, over http
    victim = launch.client.application.test_client()
    victim.set_cookie("lti_tool_session", cookie.value, path="/")
    assert victim.get("/lti/home", base_url=HTTPS).status_code == 401
    victim.set_cookie("__Host-lti_tool_session", cookie.value, path="/", secure=True)
    assert victim.get("/lti/home", base_url=HTTPS).status_code == 303


def test_a_rotated_platform_key_is_fetched_once(
    registered: Any, settings: Any, cli_json: Callable[..., Any]
) -> None:
    from lti_tool.runtime import build_runtime
    from lti_tool.web.app import create_app
    from tests.lti.platform import new_key

    fast = settings.model_copy(update={"events": settings.events.model_copy(
        update={"jwks_refetch_interval_seconds": 0})})
    app = create_app(build_runtime(fast), {"TESTING": True})
    launcher = Launcher(app.test_client(), registered)
    assert launcher().status_code == 303
    fetches = registered.jwks_fetches
    registered.key, registered.kid = new_key(), "platform-key-2"
    assert launcher().status_code == 303
    assert registered.jwks_fetches == fetches + 1


def test_an_unknown_kid_does_not_refetch_within_the_interval(launch: Launcher) -> None:
    assert launch().status_code == 303
    fetches = launch.platform.jwks_fetches
    for _ in range(3):
        assert launch(kid="unknown-kid").status_code == 401
    assert launch.platform.jwks_fetches == fetches  # fetched moments ago: the interval holds it back


def test_an_audience_list_naming_only_the_tool_with_its_azp_is_accepted(launch: Launcher) -> None:
    body = launch.platform.claims(aud=[launch.platform.client_id], azp=launch.platform.client_id)
    assert launch(body).status_code == 303


def test_canvas_beta_and_test_issuers_are_separate_platforms(
    cli_json: Callable[..., Any], platform: Any
) -> None:
    for issuer in ("https://canvas.instructure.com", "https://canvas.beta.instructure.com",
                   "https://canvas.test.instructure.com"):
        cli_json("platforms", "add", "--issuer", issuer, "--client-id", "10000000000042",
                 "--deployment-id", "1:abc", "--auth-login-url", f"{issuer}/api/lti/authorize_redirect",
                 "--auth-token-url", f"{issuer}/login/oauth2/token",
                 "--key-set-url", f"{issuer}/api/lti/security/jwks")
    assert len(cli_json("platforms", "list")) == 3
