"""The administrator page's parked events: shown with their error, put back in line by Retry, and
credited by the scheduler's reprocess job (never by the web worker)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.scheduler import reprocess_tick
from tests.lti.conftest import Launcher
from tests.lti.pages import complete, csrf_token, mapping_form
from tests.lti.platform import ADMINISTRATOR


def park(runtime: Runtime, error: str) -> int:
    with write_session(runtime.sessions) as session:
        event = session.scalars(select(models.LmsEvent)).one()
        event.status, event.attempts, event.detail = models.EventStatus.PARKED, 10, {"error": error}
        return event.id


def event(runtime: Runtime, event_id: int) -> tuple[str, int]:
    with read_session(runtime.sessions) as session:
        row = session.get(models.LmsEvent, event_id)
        assert row is not None
        return row.status, row.attempts


def admin_page(launch: Launcher) -> str:
    assert launch(launch.platform.claims(sub="99", roles=ADMINISTRATOR)).status_code == 303
    page = launch.client.get("/lti/mapping")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_no_panel_while_nothing_is_parked(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> None:
    complete(runtime, source["id"], "42", "565")
    assert 'id="parked-events"' not in admin_page(launch)


def test_a_parked_event_is_shown_retried_and_then_credited_by_the_reprocess_job(
        launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> None:
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")  # course 565 not mapped yet
    event_id = park(runtime, "ValueError: <b>bad</b> minutes")
    page = admin_page(launch)
    assert f'<tr data-event="{event_id}">' in page
    assert "ValueError: &lt;b&gt;bad&lt;/b&gt; minutes" in page  # escaped, never markup
    token = csrf_token(launch.client, "/lti/mapping")
    assert launch.client.post("/lti/mapping", data=mapping_form(token)).status_code == 200  # the cause mended
    answer = launch.client.post(f"/lti/events/{event_id}/retry", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.location.endswith("/lti/mapping#parked-events")
    assert event(runtime, event_id) == ("failed", 0)  # in line; the web worker credited nothing
    with read_session(runtime.sessions) as session:
        entry = session.scalar(select(models.AuditEntry).where(models.AuditEntry.action == "event.retried"))
        assert entry is not None and entry.subject == str(event_id) and entry.lms_user_id == "99"
    reprocess_tick(runtime)
    assert event(runtime, event_id)[0] not in ("failed", "parked")
    assert f'data-event="{event_id}"' not in launch.client.get("/lti/mapping").get_data(as_text=True)


def test_retrying_an_event_that_is_not_parked_is_404_and_changes_nothing(
        launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> None:
    outcome = complete(runtime, source["id"], "42", "565")
    admin_page(launch)
    token = csrf_token(launch.client, "/lti/mapping")
    before = event(runtime, outcome.event_id)
    assert launch.client.post(f"/lti/events/{outcome.event_id}/retry", data={"csrf_token": token}).status_code == 404
    assert launch.client.post("/lti/events/999999/retry", data={"csrf_token": token}).status_code == 404
    assert event(runtime, outcome.event_id) == before


def test_retry_without_the_forms_token_is_refused(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> None:
    complete(runtime, source["id"], "42", "565")
    event_id = park(runtime, "ValueError")
    admin_page(launch)
    assert launch.client.post(f"/lti/events/{event_id}/retry").status_code == 400
    assert event(runtime, event_id) == ("parked", 10)
