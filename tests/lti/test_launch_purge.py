"""Expired used nonces and launch sessions are deleted by a launch, one launch a minute per process
(not every launch); until then an expired row is never honoured."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.lti import launch as launch_service
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.runtime import Runtime
from lti_tool.web.lti.launch import PURGE_EVERY_SECONDS
from tests.lti.conftest import Launcher


def add_expired(runtime: Runtime, name: str) -> None:
    past = models.utcnow() - timedelta(seconds=1)
    with write_session(runtime.sessions) as session:
        platform_id = session.scalar(select(models.Platform.id))
        assert platform_id is not None
        session.add(models.UsedNonce(platform_id=platform_id, nonce=f"old-{name}", expires_at=past))
        session.add(models.LaunchSession(
            launch_id=launch_service.digest(f"old-{name}"), platform_id=platform_id, deployment_id="d",
            context_id=None, lms_user_id="old", role="learner", claims={}, expires_at=past))


def expired(runtime: Runtime) -> int:
    now = models.utcnow()
    with read_session(runtime.sessions) as session:
        return sum(session.scalar(select(func.count()).select_from(m).where(m.expires_at < now)) or 0
                   for m in (models.UsedNonce, models.LaunchSession))


def test_expired_rows_are_purged_by_one_launch_a_minute(launch: Launcher, runtime: Runtime, app: Flask) -> None:
    add_expired(runtime, "1")
    assert launch().status_code == 303
    assert expired(runtime) == 0, "the process's first launch purges"
    add_expired(runtime, "2")
    assert launch().status_code == 303
    assert expired(runtime) == 2, "a launch within the minute leaves them"
    with read_session(runtime.sessions) as session:
        assert launch_service.find_session(session, "old-2") is None, "an expired session is never honoured"
    app.extensions["lti_tool_launch_purge"]["at"] -= PURGE_EVERY_SECONDS + 1
    assert launch().status_code == 303
    assert expired(runtime) == 0


def test_an_expired_nonce_not_purged_yet_still_refuses_its_replay(runtime: Runtime, launch: Launcher) -> None:
    assert launch().status_code == 303  # the purge of this minute is done
    add_expired(runtime, "3")
    with read_session(runtime.sessions) as session:
        platform_id = session.scalar(select(models.Platform.id))
    assert platform_id is not None
    with pytest.raises(LaunchRejected, match="nonce replayed"), write_session(runtime.sessions) as session:
        launch_service.consume_nonce(session, platform_id, "old-3", runtime.settings.lti, purge_expired=False)
