"""The learner turns renewal reminders off and back on from their page (e.g. after unsubscribing)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.pages import complete, csrf_token
from tests.lti.test_pages import open_as


def opted_out(runtime: Runtime) -> int:
    with read_session(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(models.ReminderOptOut)) or 0


def test_the_learner_turns_reminders_off_and_back_on(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565")
    open_as(launch, sub="42")
    token = csrf_token(launch.client, "/lti/learner")
    off = launch.client.post("/lti/learner/reminders", data={"csrf_token": token, "reminders": "off"})
    assert off.status_code == 303 and opted_out(runtime) == 1
    on = launch.client.post("/lti/learner/reminders", data={"csrf_token": token, "reminders": "on"})
    assert on.status_code == 303 and opted_out(runtime) == 0


def test_a_value_other_than_on_or_off_is_400(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> None:
    complete(runtime, source["id"], "42", "565")
    open_as(launch, sub="42")
    token = csrf_token(launch.client, "/lti/learner")
    response = launch.client.post("/lti/learner/reminders", data={"csrf_token": token, "reminders": "maybe"})
    assert response.status_code == 400 and opted_out(runtime) == 0
