"""Every refused launch: a 4xx, a clear page, and nothing stored (1EdTech Security Framework 5.1.3)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher, stored_counts
from tests.lti.platform import LTI, new_key


@pytest.fixture(autouse=True)
def _logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    global CAPLOG
    CAPLOG = caplog
    yield
    CAPLOG = None


CAPLOG: pytest.LogCaptureFixture | None = None


def assert_refused(response: Any, runtime: Runtime, words: str, status: int | None = None) -> None:
    """A 4xx, a page naming the problem, a log line saying so, and nothing stored."""
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert CAPLOG is not None
    logged = [r.getMessage() for r in CAPLOG.records if "/lti/launch refused" in r.getMessage()]
    assert logged and words in logged[-1], logged
    if status is not None:
        assert response.status_code == status
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "The tool cannot be opened" in page
    assert words in page, page
    assert all(count == 0 for count in stored_counts(runtime).values()), stored_counts(runtime)


NOW = int(time.time())

CLAIM_CASES = {
    "wrong LTI version": ({LTI + "version": "1.1.0"}, "not an LTI 1.3.0 launch"),
    "missing LTI version": ({LTI + "version": None}, "not an LTI 1.3.0 launch"),
    "no message type": ({LTI + "message_type": None}, "no message type"),
    "unknown message type": ({LTI + "message_type": "LtiStartProctoring"}, "does not handle"),
    "no roles claim": ({LTI + "roles": None}, "no roles claim"),
    "no deployment id": ({LTI + "deployment_id": None}, "no deployment id"),
    "no resource link id": ({LTI + "resource_link": {"title": "x"}}, "no resource link id"),
    "no resource link claim": ({LTI + "resource_link": None}, "no resource link id"),
    "context without id": ({LTI + "context": {"title": "x"}}, "context has no id"),
    "no sub": ({"sub": None}, "names no user"),
    "expired": ({"exp": NOW - 600, "iat": NOW - 900}, "expired"),
    "no exp": ({"exp": None}, "no exp claim"),
    "no iat": ({"iat": None}, "no iat claim"),
    "iat in the future": ({"iat": NOW + 600, "exp": NOW + 900}, "in the future"),
    "iat too old": ({"iat": NOW - 3600, "exp": NOW + 300}, "too long ago"),
    "no nonce": ({"nonce": None}, "no nonce claim"),
    "extra untrusted audience": ({"aud": ["tool-client-1", "someone-else"]}, "audiences besides this tool"),
    "wrong azp": ({"azp": "someone-else"}, "authorized party"),
    "unknown issuer": ({"iss": "https://evil.example"}, "not registered"),
    "unknown deployment": ({LTI + "deployment_id": "other-deployment"}, "is not registered with the tool; its operator"),
    "unknown client id": ({"aud": "other-client"}, "not registered"),
    "a number that is not finite": ({"https://example.org/score": float("nan")}, "not a finite number"),
    "an infinite number": ({LTI + "custom": {"points": float("inf")}}, "not a finite number"),
    # read (unverified) to find the platform's deployment: PostgreSQL's driver refuses NUL in text
    "a NUL in the deployment id": ({LTI + "deployment_id": "deployment-a\x00"}, "holds a NUL"),
    "a NUL in the issuer": ({"iss": "https://lms.example\x00"}, "holds a NUL"),
    "a NUL in the audience": ({"aud": "tool-client-1\x00"}, "holds a NUL"),
}


@pytest.mark.parametrize("case", CLAIM_CASES, ids=list(CLAIM_CASES))
def test_a_launch_with_bad_claims_is_refused(case: str, launch: Launcher, runtime: Runtime) -> None:
    overrides, words = CLAIM_CASES[case]
    now = int(time.time())
    fresh = {k: (v - NOW + now if k in ("iat", "exp") and isinstance(v, int) else v) for k, v in overrides.items()}
    response = launch(launch.platform.claims(**fresh))
    assert_refused(response, runtime, words)


def test_missing_lti_claims_are_refused(launch: Launcher, runtime: Runtime) -> None:
    body = {k: v for k, v in launch.platform.claims().items() if not k.startswith(LTI)}
    assert_refused(launch(body), runtime, "not an LTI 1.3.0 launch")


def test_a_token_that_is_not_a_jwt_is_refused(launch: Launcher, runtime: Runtime) -> None:
    assert_refused(launch(token="not-a-jwt"), runtime, "not a signed JWT", 400)


def test_a_json_message_that_is_not_a_jwt_is_refused(launch: Launcher, runtime: Runtime) -> None:
    """The certification guide's "invalid LTI message": the claims as plain JSON, unsigned."""
    assert_refused(launch(token=json.dumps(launch.platform.claims())), runtime, "not a signed JWT", 400)


def test_rs512_is_refused(launch: Launcher, runtime: Runtime) -> None:
    assert_refused(launch(alg="RS512"), runtime, "must be signed with RS256", 401)


DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


@pytest.mark.parametrize("dl_settings", [
    None, {"accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe"]},
    {"deep_link_return_url": "javascript:alert(1)", "accept_types": ["ltiResourceLink"],
     "accept_presentation_document_targets": ["iframe"]},
], ids=["no settings", "no return url", "script return url"])
def test_a_deep_linking_request_without_a_usable_return_url_is_refused(
    dl_settings: Any, launch: Launcher, runtime: Runtime
) -> None:
    body = launch.platform.claims(**{LTI + "message_type": "LtiDeepLinkingRequest", LTI + "resource_link": None,
                                     DL: dl_settings})
    assert_refused(launch(body), runtime, "deep", 400)


def test_a_token_without_kid_is_refused(launch: Launcher, runtime: Runtime) -> None:
    assert_refused(launch(kid=None), runtime, "no key id (kid)", 401)


def test_a_token_with_an_unknown_kid_is_refused(launch: Launcher, runtime: Runtime) -> None:
    assert_refused(launch(kid="no-such-key"), runtime, "no-such-key", 401)


def test_a_token_signed_by_another_key_is_refused(launch: Launcher, runtime: Runtime) -> None:
    assert_refused(launch(key=new_key()), runtime, "signature does not verify", 401)


def test_alg_none_is_refused(launch: Launcher, runtime: Runtime) -> None:
    auth_body = launch.platform.claims()
    token = jwt.encode(auth_body, None, algorithm="none", headers={"kid": launch.platform.kid})
    assert_refused(launch(token=token), runtime, "must be signed with RS256", 401)


def test_hs256_is_refused(launch: Launcher, runtime: Runtime) -> None:
    assert_refused(launch(alg="HS256", key="a-shared-secret-of-enough-length-32b"), runtime,
                   "must be signed with RS256", 401)


def test_an_unknown_state_is_refused(launch: Launcher, runtime: Runtime) -> None:
    assert_refused(launch(state="made-up-state"), runtime, "does not match this browser", 401)


def test_a_state_of_another_login_is_refused(launch: Launcher, runtime: Runtime) -> None:
    from tests.lti.conftest import login

    other = login(launch.client, launch.platform)  # the browser's cookie now names this login
    first = login(launch.client, launch.platform)
    body = launch.platform.claims(nonce=first["nonce"])
    response = launch.client.post("/lti/launch", data={"id_token": launch.platform.sign(body), "state": other["state"]})
    assert_refused(response, runtime, "state", 401)


def test_a_replayed_id_token_is_refused(launch: Launcher, runtime: Runtime) -> None:
    from tests.lti.conftest import login

    auth = login(launch.client, launch.platform)
    token = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"]))
    first = launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
    assert first.status_code == 303
    before = stored_counts(runtime)
    again = launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
    assert again.status_code == 401
    assert stored_counts(runtime) == before


def test_a_replayed_id_token_with_a_new_login_is_refused(launch: Launcher, runtime: Runtime) -> None:
    from tests.lti.conftest import login

    auth = login(launch.client, launch.platform)
    token = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"]))
    assert launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]}).status_code == 303
    before = stored_counts(runtime)
    fresh = login(launch.client, launch.platform)
    again = launch.client.post("/lti/launch", data={"id_token": token, "state": fresh["state"]})
    assert again.status_code == 401 and "nonce differ" in again.get_data(as_text=True)
    assert stored_counts(runtime) == before


def test_a_used_nonce_is_refused_by_the_database_even_with_a_valid_state(
    launch: Launcher, runtime: Runtime
) -> None:
    """The nonce is consumed in the database: a second launch carrying it is refused even though its
    state (signed, stored nowhere) still checks out, on any worker."""
    from sqlalchemy import select

    from lti_tool import models
    from lti_tool.db import read_session
    from lti_tool.lti import login_state
    from tests.lti.conftest import login

    auth = login(launch.client, launch.platform)
    token = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"]))
    assert launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]}).status_code == 303
    with read_session(runtime.sessions) as session:
        used = session.scalar(select(models.UsedNonce.nonce))
        platform_id = session.scalar(select(models.Platform.id))
        secret = session.scalar(select(models.AppSecret.value).where(models.AppSecret.name == login_state.SECRET_NAME))
    assert used == auth["nonce"] and platform_id is not None and secret is not None
    login_state.check(secret, auth["state"], platform_id, auth["nonce"])  # the state alone would pass
    before = stored_counts(runtime)
    again = launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
    assert again.status_code == 401 and "nonce replayed" in again.get_data(as_text=True)
    assert stored_counts(runtime) == before


def test_an_unreachable_platform_keyset_is_a_503_and_stores_nothing(
    launch: Launcher, runtime: Runtime
) -> None:
    launch.platform.stop()  # the key set URL no longer answers
    from tests.lti.conftest import login

    auth = login(launch.client, launch.platform)
    token = launch.platform.sign(launch.platform.claims(nonce=auth["nonce"]))
    response = launch.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
    assert response.status_code == 503
    assert "try again" in response.get_data(as_text=True)
    assert all(count == 0 for count in stored_counts(runtime).values())
    launch.platform.start()  # so the fixture's teardown has a server to stop
