"""Launches that arrive together share one write transaction; each is still accepted or refused on
its own: a nonce used twice in one batch is accepted once, a launch of a platform deactivated since
it was verified is refused, and a refused launch writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.lti import launch as launch_service
from lti_tool.lti.launch_record import PreparedLaunch
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.runtime import Runtime
from lti_tool.web.lti import launch as launch_view
from tests.lti.conftest import stored_counts
from tests.lti.platform import TestPlatform


def prepared(runtime: Runtime, platform: TestPlatform, **claims: Any) -> PreparedLaunch:
    """A launch as :func:`launch_service.verify_launch` would have verified it."""
    with read_session(runtime.sessions) as session:
        row = session.execute(select(models.Platform.id, models.Platform.source_id)).one()
    verified = launch_service.VerifiedLaunch(row.id, platform.claims(**claims), True, row.source_id)
    return launch_service.prepare_launch(verified, settings=runtime.settings.lti)


def record(runtime: Runtime, launches: list[PreparedLaunch]) -> list[launch_service.Launch | LaunchRejected]:
    with write_session(runtime.sessions) as session:
        return launch_service.record_launches(session, launches, purge_expired=False)


def test_a_nonce_used_twice_in_one_batch_is_accepted_once(runtime: Runtime, registered: TestPlatform) -> None:
    first = prepared(runtime, registered, sub="ada", nonce="same")
    second = prepared(runtime, registered, sub="bob", nonce="same")
    other = prepared(runtime, registered, sub="cy", nonce="other")
    before = stored_counts(runtime)
    done = record(runtime, [first, second, other])
    assert isinstance(done[0], launch_service.Launch) and isinstance(done[2], launch_service.Launch)
    assert isinstance(done[1], LaunchRejected) and "nonce replayed" in str(done[1]) and done[1].status == 401
    after = stored_counts(runtime)
    assert after["lti_used_nonces"] - before["lti_used_nonces"] == 2
    assert after["lti_launch_sessions"] - before["lti_launch_sessions"] == 2
    assert after["learners"] - before["learners"] == 2, "the refused launch's learner is not recorded"
    with read_session(runtime.sessions) as session:
        users = set(session.scalars(select(models.LaunchSession.lms_user_id)))
        found = launch_service.find_session(session, done[0].token)
    assert users == {"ada", "cy"}
    assert found is not None and found.id == done[0].session_id and found.lms_user_id == "ada"


def test_a_nonce_used_before_is_refused_in_a_batch(runtime: Runtime, registered: TestPlatform) -> None:
    [done] = record(runtime, [prepared(runtime, registered, nonce="n-1")])
    assert isinstance(done, launch_service.Launch)
    again, fresh = record(runtime, [prepared(runtime, registered, nonce="n-1"),
                                    prepared(runtime, registered, nonce="n-2")])
    assert isinstance(again, LaunchRejected) and isinstance(fresh, launch_service.Launch)


def test_a_platform_deactivated_since_verifying_refuses_its_launches(runtime: Runtime,
                                                                      registered: TestPlatform) -> None:
    waiting = [prepared(runtime, registered, sub="ada"), prepared(runtime, registered, sub="bob")]
    with write_session(runtime.sessions) as session:
        session.execute(update(models.Platform).values(status="pending"))
    before = stored_counts(runtime)
    done = record(runtime, waiting)
    assert all(isinstance(d, LaunchRejected) and d.status == 403 for d in done)
    assert stored_counts(runtime) == before


def test_one_learner_twice_in_a_batch_is_one_learner_with_the_later_name(runtime: Runtime,
                                                                          registered: TestPlatform) -> None:
    done = record(runtime, [prepared(runtime, registered, sub="ada", name="Ada L."),
                            prepared(runtime, registered, sub="ada", name="Ada Lovelace", email=None)])
    assert all(isinstance(d, launch_service.Launch) for d in done)
    with read_session(runtime.sessions) as session:
        learners = session.execute(select(models.Learner.name, models.Learner.email)).all()
    assert [tuple(row) for row in learners] == [("Ada Lovelace", "ada@example.org")]


def test_a_failed_batch_writes_each_launch_alone(runtime: Runtime, registered: TestPlatform, app: Flask,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = launch_service.record_launches

    def fails_for_a_batch(session: Any, launches: list[PreparedLaunch], **kwargs: Any) -> Any:
        if len(launches) > 1:
            raise RuntimeError("the batch's transaction failed")
        return real(session, launches, **kwargs)

    monkeypatch.setattr(launch_service, "record_launches", fails_for_a_batch)
    with app.app_context():
        done = launch_view._write_launches(app, [prepared(runtime, registered, sub="ada"),
                                                 prepared(runtime, registered, sub="bob")])
    assert all(isinstance(d, launch_service.Launch) for d in done)
    with read_session(runtime.sessions) as session:
        assert set(session.scalars(select(models.LaunchSession.lms_user_id))) == {"ada", "bob"}


def test_a_launch_whose_own_commit_fails_after_a_failed_batch_fails_alone(
        runtime: Runtime, registered: TestPlatform, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written again one by one, a launch whose transaction fails at its commit (after its rows were
    returned) is refused, and each other launch keeps its own answer: one answer per launch."""
    real = launch_service.record_launches

    def fails_for_a_batch_and_at_bob_s_commit(session: Any, launches: list[PreparedLaunch], **kwargs: Any) -> Any:
        if len(launches) > 1:
            raise RuntimeError("the batch's transaction failed")
        done = real(session, launches, **kwargs)
        if launches[0].session["lms_user_id"] == "bob":  # refused at the commit's flush: the nonce again
            session.add(models.UsedNonce(**launches[0].nonce))
        return done

    monkeypatch.setattr(launch_service, "record_launches", fails_for_a_batch_and_at_bob_s_commit)
    with app.app_context():
        done = launch_view._write_launches(app, [prepared(runtime, registered, sub=sub) for sub in ("ada", "bob", "cy")])
    assert len(done) == 3
    assert isinstance(done[0], launch_service.Launch) and isinstance(done[2], launch_service.Launch)
    assert not isinstance(done[1], launch_service.Launch), "bob's session was never committed"
    with read_session(runtime.sessions) as session:
        assert set(session.scalars(select(models.LaunchSession.lms_user_id))) == {"ada", "cy"}
