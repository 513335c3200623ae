"""The login's state is signed and expires (lti_tool/lti/login_state.py): a login stores nothing, and
only a state the tool issued, unaltered, unexpired, for the launch's platform and with the id_token
carrying its own nonce opens a launch; the used nonce makes it single-use."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.lti import launch as launch_service
from lti_tool.lti import launch_record, login_state
from lti_tool.lti.login_state import BadState
from lti_tool.runtime import Runtime
from lti_tool.web.lti.launch import STATE_COOKIE
from tests.lti.conftest import Launcher, login, stored_counts

SECRET = "a-secret-of-the-tool"


def test_an_issued_state_checks_out_with_its_own_nonce() -> None:
    issued = login_state.issue(SECRET, 7, 600)
    login_state.check(SECRET, issued.state, 7, issued.nonce)
    assert issued.nonce == login_state.nonce_of(SECRET, issued.state)
    assert len(issued.state) <= 128 and issued.state.isascii() and issued.nonce != issued.state


def test_two_logins_have_different_states_and_nonces() -> None:
    first, second = login_state.issue(SECRET, 7, 600), login_state.issue(SECRET, 7, 600)
    assert first.state != second.state and first.nonce != second.nonce
    with pytest.raises(BadState, match="state and nonce differ"):
        login_state.check(SECRET, second.state, 7, first.nonce)


def altered(state: str, part: int, value: str) -> str:
    parts = state.split(".")
    parts[part] = value
    return ".".join(parts)


@pytest.mark.parametrize(("part", "value"), [(0, "another-random-part"), (1, "8"), (2, "9999999999"),
                                             (3, "A" * 43)],
                         ids=["random part", "platform", "expiry pushed back", "mac"])
def test_an_altered_state_is_unknown(part: int, value: str) -> None:
    issued = login_state.issue(SECRET, 7, 600)
    state = altered(issued.state, part, value)
    with pytest.raises(BadState, match="unknown"):
        login_state.check(SECRET, state, 7, login_state.nonce_of(SECRET, state))


@pytest.mark.parametrize("state", ["", "made-up-state", "a.b.c", "a.b.c.d.e", "...", "a.7.1.mac"])
def test_a_made_up_state_is_unknown(state: str) -> None:
    with pytest.raises(BadState, match="unknown"):
        login_state.check(SECRET, state, 7, "nonce")


def test_a_state_signed_with_another_secret_is_unknown() -> None:
    issued = login_state.issue("another-tool's-secret", 7, 600)
    with pytest.raises(BadState, match="unknown"):
        login_state.check(SECRET, issued.state, 7, issued.nonce)


def test_a_state_expires_after_its_lifetime() -> None:
    now = time.time()
    issued = login_state.issue(SECRET, 7, 600, now=now)
    login_state.check(SECRET, issued.state, 7, issued.nonce, now=now + 599)
    with pytest.raises(BadState, match="expired"):
        login_state.check(SECRET, issued.state, 7, issued.nonce, now=now + 601)


def test_a_state_of_another_platform_is_refused() -> None:
    issued = login_state.issue(SECRET, 7, 600)
    with pytest.raises(BadState, match="state and nonce differ"):
        login_state.check(SECRET, issued.state, 8, issued.nonce)


def test_a_login_stores_nothing(launch: Launcher, runtime: Runtime) -> None:
    login(launch.client, launch.platform)  # the tool's secrets are made at the first login
    before = stored_counts(runtime)
    auth = login(launch.client, launch.platform)
    assert stored_counts(runtime) == before and auth["state"] and auth["nonce"]


def state_secret(runtime: Runtime) -> str:
    with read_session(runtime.sessions) as session:
        secret = session.scalar(select(models.AppSecret.value).where(models.AppSecret.name == login_state.SECRET_NAME))
    assert secret is not None
    return secret


def platform_id(runtime: Runtime) -> int:
    with read_session(runtime.sessions) as session:
        found = session.scalar(select(models.Platform.id))
    assert found is not None
    return found


def test_a_launch_with_an_expired_state_is_refused_and_stores_nothing(launch: Launcher, runtime: Runtime) -> None:
    login(launch.client, launch.platform)
    lifetime = runtime.settings.lti.state_lifetime_seconds
    old = login_state.issue(state_secret(runtime), platform_id(runtime), lifetime, now=time.time() - lifetime - 1)
    launch.client.set_cookie(STATE_COOKIE, old.state, path="/")
    before = stored_counts(runtime)
    token = launch.platform.sign(launch.platform.claims(nonce=old.nonce))
    response = launch.client.post("/lti/launch", data={"id_token": token, "state": old.state})
    assert response.status_code == 401 and "expired" in response.get_data(as_text=True)
    assert stored_counts(runtime) == before


def test_a_forged_state_in_the_browser_s_cookie_is_refused(launch: Launcher, runtime: Runtime) -> None:
    """An attacker who sets the state cookie too cannot make up a state: it must carry the tool's MAC."""
    login(launch.client, launch.platform)
    forged = login_state.issue("the-attacker's-guess", platform_id(runtime), 600)
    launch.client.set_cookie(STATE_COOKIE, forged.state, path="/")
    before = stored_counts(runtime)
    token = launch.platform.sign(launch.platform.claims(nonce=forged.nonce))
    response = launch.client.post("/lti/launch", data={"id_token": token, "state": forged.state})
    assert response.status_code == 401 and "unknown" in response.get_data(as_text=True)
    assert stored_counts(runtime) == before


def test_a_used_nonce_is_kept_at_least_as_long_as_its_state_could_be_used(runtime: Runtime, launch: Launcher) -> None:
    settings = runtime.settings.lti.model_copy(update={"max_token_age_seconds": 60, "clock_leeway_seconds": 0,
                                                       "state_lifetime_seconds": 900})
    login(launch.client, launch.platform)
    started = models.utcnow()
    with write_session(runtime.sessions) as session:
        launch_service.consume_nonce(session, platform_id(runtime), "n-1", settings)
    with read_session(runtime.sessions) as session:
        expires = session.scalar(select(models.UsedNonce.expires_at))
    assert expires is not None and expires >= started + timedelta(seconds=900)


def test_a_state_issued_before_its_lifetime_was_lowered_keeps_its_nonce_until_it_expires(
        runtime: Runtime, launch: Launcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator lowered ``state_lifetime_seconds`` (to the running tool's 600 s) after a login
    was given a state of an hour. The launch's used nonce is kept until that state's own expiry: a
    purge after the lowered lifetime (and the token's age) has passed still leaves it, so the state
    cannot open a second launch with a fresh id_token carrying the same nonce."""
    settings = runtime.settings.lti
    assert settings.state_lifetime_seconds < 3600
    login(launch.client, launch.platform)  # makes the tool's secrets
    issued = login_state.issue(state_secret(runtime), platform_id(runtime), 3600)
    launch.client.set_cookie(STATE_COOKIE, issued.state, path="/")

    def post() -> int:
        token = launch.platform.sign(launch.platform.claims(nonce=issued.nonce))
        return launch.client.post("/lti/launch", data={"id_token": token, "state": issued.state}).status_code

    assert post() == 303
    later = models.utcnow() + launch_record.nonce_kept(settings) + timedelta(seconds=1)
    with monkeypatch.context() as m, write_session(runtime.sessions) as session:
        m.setattr(models, "utcnow", lambda: later)  # the purge a launch makes at that time
        launch_service._purge_expired(session)
    with read_session(runtime.sessions) as session:
        kept = session.scalar(select(models.UsedNonce.expires_at).where(models.UsedNonce.nonce == issued.nonce))
    assert kept is not None, "the nonce was purged while its state can still be used"
    assert kept >= datetime.fromtimestamp(int(issued.state.split(".")[2]), UTC)
    launch.client.set_cookie(STATE_COOKIE, issued.state, path="/")
    before = stored_counts(runtime)
    assert post() == 401
    assert stored_counts(runtime) == before
