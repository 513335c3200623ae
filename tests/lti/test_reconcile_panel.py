"""The administrator page's reconciliation panel and its "Reconcile now" button."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from lti_tool.scheduler import reconcile_requests_tick, reconcile_tick
from tests.lti.conftest import Launcher
from tests.lti.pages import csrf_token
from tests.lti.platform import ADMINISTRATOR, LEARNER
from tests.spine import import_mapping
from tests.support.loopback import serve
from tests.support.moodle_api import MoodleCourse, MoodleState, moodle_handler, moodle_user


@pytest.fixture
def moodle(launch: Launcher, cli_json: Callable[..., Any], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[MoodleState]:
    monkeypatch.setenv("MOODLE_TOKEN", "ws-token")
    import_mapping(cli_json, tmp_path, source="moodle-1", course="565", minutes=60, credentials=["iacet-ceu"])
    state = MoodleState(token="ws-token", courses={"565": MoodleCourse(
        [moodle_user(42, "Rosa", "Diaz"), moodle_user(43, "Li", "Wu")], completed={42: [1700000000]})})
    with serve(moodle_handler(state)) as base:
        cli_json("sources", "connect", "moodle-1", "--api-url", base, "--token-env", "MOODLE_TOKEN")
        yield state


def admin_page(launch: Launcher) -> str:
    assert launch(launch.platform.claims(sub="99", roles=ADMINISTRATOR)).status_code == 303
    page = launch.client.get("/lti/mapping")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def panel_row(page: str, source: str) -> str:
    match = re.search(rf'<tr data-source="{source}">(.*?)</tr>', page, flags=re.S)
    assert match, page
    return match.group(1)


def test_a_source_not_yet_reconciled_says_so(launch: Launcher, moodle: MoodleState) -> None:
    assert "Not reconciled yet" in panel_row(admin_page(launch), "moodle-1")


def test_a_source_not_connected_tells_the_admin_who_connects_it(launch: Launcher) -> None:
    page = admin_page(launch)
    assert "lti-tool sources connect" in panel_row(page, "moodle-1")
    assert "Reconcile now" not in page


def test_reconcile_now_is_carried_out_by_the_scheduler_and_shown(
        launch: Launcher, moodle: MoodleState, runtime: Runtime) -> None:
    admin_page(launch)
    token = csrf_token(launch.client, "/lti/mapping")
    answer = launch.client.post("/lti/reconcile", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.location.endswith("/lti/mapping#reconciliation")
    assert "Reconciliation requested at" in launch.client.get("/lti/mapping").get_data(as_text=True)
    assert moodle.calls == []  # the web worker ran nothing
    reconcile_requests_tick(runtime)
    row = panel_row(launch.client.get("/lti/mapping").get_data(as_text=True), "moodle-1")
    assert re.search(r'data-field="found">1<', row) and re.search(r'data-field="credited">1<', row)
    assert 'data-field="errors">none<' in row
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.ReconcileRequest)) is None
        entry = session.scalar(select(models.AuditEntry).where(models.AuditEntry.action == "reconcile.requested"))
        assert entry is not None and entry.lms_user_id == "99"


def test_errors_of_the_last_run_are_shown(launch: Launcher, moodle: MoodleState, runtime: Runtime) -> None:
    moodle.token = "rotated"
    reconcile_tick(runtime)
    assert "invalidtoken" in panel_row(admin_page(launch), "moodle-1")


def test_reconcile_now_without_the_csrf_token_is_refused(launch: Launcher, moodle: MoodleState,
                                                         runtime: Runtime) -> None:
    admin_page(launch)
    assert launch.client.post("/lti/reconcile").status_code == 400
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.ReconcileRequest)) is None


def test_a_learner_cannot_reconcile(launch: Launcher, moodle: MoodleState, runtime: Runtime) -> None:
    assert launch(launch.platform.claims(sub="42", roles=LEARNER)).status_code == 303
    token = csrf_token(launch.client, "/lti/learner")
    assert launch.client.post("/lti/reconcile", data={"csrf_token": token}).status_code == 403
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.ReconcileRequest)) is None


def test_another_platforms_admin_neither_sees_nor_reconciles_this_platforms_source(
        launch: Launcher, moodle: MoodleState, other_platform: Any, runtime: Runtime) -> None:
    other = Launcher(launch.client, other_platform)
    page = admin_page(other)
    assert 'data-source="moodle-1"' not in page and "Reconcile now" not in page
    token = csrf_token(other.client, "/lti/mapping")
    assert other.client.post("/lti/reconcile", data={"csrf_token": token}).status_code == 409
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.ReconcileRequest)) is None
