"""A launch's learner is the learner the LMS's events name: Moodle's sub, Canvas's $Canvas.user.id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.lti.keys import ensure_key
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher, stored_counts
from tests.lti.platform import LTI, TestPlatform


@pytest.fixture
def canvas(platform: TestPlatform, cli_json: Callable[..., Any], runtime: Runtime, client: FlaskClient) -> Launcher:
    with write_session(runtime.sessions) as session:
        ensure_key(session)
    cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-1")
    cli_json(*platform.cli_args(source="canvas-1"))
    return Launcher(client, platform)


def learners(runtime: Runtime) -> list[tuple[str, str | None]]:
    with read_session(runtime.sessions) as session:
        return [(row.lms_user_id, row.name) for row in session.scalars(select(models.Learner))]


def test_moodle_learners_are_keyed_by_sub(launch: Launcher, runtime: Runtime) -> None:
    launch(launch.platform.claims(sub="17"))
    assert learners(runtime) == [("17", "Ada Lovelace")]


def test_canvas_learners_are_keyed_by_the_canvas_user_id(canvas: Launcher, runtime: Runtime) -> None:
    response = canvas(canvas.platform.claims(sub="opaque-lti-id", **{LTI + "custom": {
        "canvas_user_id": "123", "canvas_course_id": "565"}}))
    assert response.status_code == 303
    assert learners(runtime) == [("123", "Ada Lovelace")]


def test_a_canvas_launch_in_a_course_without_the_custom_course_id_is_refused(
    canvas: Launcher, runtime: Runtime
) -> None:
    response = canvas(canvas.platform.claims(sub="opaque-lti-id", **{LTI + "custom": {"canvas_user_id": "123"}}))
    assert response.status_code == 400
    assert "canvas_course_id" in response.get_data(as_text=True)
    assert all(count == 0 for count in stored_counts(runtime).values())


def test_custom_parameters_of_a_moodle_activity_cannot_change_who_or_which_course(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    """A Moodle teacher can type custom parameters into an activity: they must not make a launch
    pass for another learner or another course."""
    from tests.lti.pages import complete
    from tests.lti.platform import INSTRUCTOR

    complete(runtime, source["id"], "7", "999", name="Someone Else")
    forged = {LTI + "custom": {"canvas_user_id": "7", "canvas_course_id": "999"}}
    assert launch(launch.platform.claims(sub="42", **forged)).status_code == 303
    assert ("42", "Ada Lovelace") in learners(runtime)
    assert "No credit yet" in launch.client.get("/lti/learner").get_data(as_text=True)
    assert launch(launch.platform.claims(sub="50", roles=INSTRUCTOR, **forged)).status_code == 303
    assert "Someone Else" not in launch.client.get("/lti/course").get_data(as_text=True)


def test_a_canvas_launch_without_the_custom_user_id_is_refused(canvas: Launcher, runtime: Runtime) -> None:
    response = canvas(canvas.platform.claims(sub="opaque-lti-id", **{LTI + "custom": {"canvas_user_id": "$Canvas.user.id"}}))
    assert response.status_code == 400
    assert "canvas_user_id" in response.get_data(as_text=True)
    assert all(count == 0 for count in stored_counts(runtime).values())


def test_the_learner_row_is_shared_with_events_of_the_linked_source(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    from tests.lti.pages import complete

    complete(runtime, source["id"], "42", "565", name="From Events")
    launch(launch.platform.claims(sub="42"))
    assert learners(runtime) == [("42", "Ada Lovelace")]
