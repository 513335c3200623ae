"""The pages and forms the first accessibility pass left out (issue 12: "every page passes axe-core",
"keyboard-only use of each form is tested"): a renewal item confirmed, renewal reminders turned off
and on, and a reconciliation asked for, with the keyboard alone; the read-only mapping of another
course reached by keyboard; the public certificate verification page (valid and unknown) and the
e-mail's unsubscribe page with its one button; a parked event retried. Each passes axe's blocking WCAG 2.1 AA rules (at 360
and 1280 px where parametrized) without horizontal scrolling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.reminder_optout import opted_out, unsubscribe_token
from lti_tool.services.verification import code_for
from tests.browser.test_accessibility import course, problems, tab_to
from tests.lti.platform import TestPlatform
from tests.spine import import_mapping

__all__ = ["course"]
WIDTHS = [360, 1280]


def canvas_source(cli_json: Callable[..., Any]) -> str:
    [source] = [s for s in cli_json("sources", "list", "--json") if s["name"] == "canvas"]
    return str(source["id"])


@pytest.mark.parametrize("width", WIDTHS)
def test_a_renewal_item_is_confirmed_with_the_keyboard_alone(
    browser: Any, course: TestPlatform, cli_json: Callable[..., Any], width: int
) -> None:
    cli_json("learners", "credential", "add", "--source", canvas_source(cli_json), "--user", "123",
             "--credential", "acmss-cmss", "--certified-on", str(date.today().replace(day=1)), "--json")
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{course.base}/start?user=learner")
    items = "section.renewal-items[data-credential='acmss-cmss']"
    page.wait_for_selector(f"{items} li[data-item='annual-fee']:has-text('not confirmed')")
    assert problems(page) == []
    tab_to(page, f"{items} form.confirm-item button")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Recorded for acmss-cmss")
    assert "confirmed on" in page.inner_text(f"{items} li[data-item='annual-fee']")
    assert problems(page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_another_courses_mapping_is_reached_by_keyboard_and_passes_axe(
    browser: Any, course: TestPlatform, cli_json: Callable[..., Any], tmp_path: Path, width: int
) -> None:
    import_mapping(cli_json, tmp_path, source="canvas", course="601", minutes=60, credentials=["iacet-ceu"])
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{course.base}/start?user=admin")
    page.wait_for_selector("h1:has-text('Credit mapping')")
    tab_to(page, "a[href$='/lti/mapping/courses/601']", limit=300)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Credit mapping for course 601')")
    assert problems(page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_verification_pages_pass_axe(
    browser: Any, course: TestPlatform, server: str, runtime: Runtime, width: int
) -> None:
    with write_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id).order_by(models.Award.id).limit(1))
        assert award_id is not None
        code = code_for(session, award_id)
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{server}/verify/{code}")
    page.wait_for_selector("p.valid")
    found = problems(page)
    page.goto(f"{server}/verify/not-a-code")
    page.wait_for_selector("h1:has-text('Certificate verification')")
    assert found + problems(page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_unsubscribe_page_works_with_the_keyboard_alone(
    browser: Any, course: TestPlatform, server: str, runtime: Runtime, width: int
) -> None:
    with write_session(runtime.sessions) as session:
        learner_id = session.scalar(select(models.Learner.id).where(models.Learner.lms_user_id == "123"))
        assert learner_id is not None
        token = unsubscribe_token(session, learner_id)
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{server}/reminders/unsubscribe/{token}")
    page.wait_for_selector("button:has-text('Stop renewal reminders')")
    found = problems(page)
    tab_to(page, "button")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=You will get no more renewal reminders")
    found += problems(page)
    page.goto(f"{server}/reminders/unsubscribe/not-a-token")
    page.wait_for_selector("text=This link is not valid")
    assert found + problems(page) == []
    with runtime.sessions() as session:
        assert opted_out(session, learner_id)


@pytest.fixture
def reminders_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server (started after this fixture) sends renewal reminders, so the learner page shows
    the reminders form."""
    monkeypatch.setenv("LTI_TOOL_REMINDERS__ENABLED", "true")


def test_the_reminders_form_works_with_the_keyboard_alone(
    reminders_on: None, browser: Any, course: TestPlatform, runtime: Runtime
) -> None:
    page = browser.new_page()
    page.goto(f"{course.base}/start?user=learner")
    page.wait_for_selector("#reminders button:has-text('Stop renewal reminders')")
    tab_to(page, "#reminders button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reminders button:has-text('Turn renewal reminders back on')")
    assert problems(page) == []
    with runtime.sessions() as session:
        learner_id = session.scalar(select(models.Learner.id).where(models.Learner.lms_user_id == "123"))
        assert learner_id is not None and opted_out(session, learner_id)
    tab_to(page, "#reminders button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reminders button:has-text('Stop renewal reminders')")
    with runtime.sessions() as session:
        assert not opted_out(session, learner_id)


def test_reconcile_now_works_with_the_keyboard_alone(
    browser: Any, course: TestPlatform, cli_json: Callable[..., Any]
) -> None:
    """The reconciliation panel's one button (shown once the source is connected to the LMS's API;
    pressing it only records the request: the scheduler calls the LMS)."""
    cli_json("sources", "connect", "canvas", "--api-url", "https://canvas.example", "--token-env", "CANVAS_TOKEN")
    page = browser.new_page()
    page.goto(f"{course.base}/start?user=admin")
    page.wait_for_selector("#reconciliation button:has-text('Reconcile now')")
    tab_to(page, "#reconciliation button", limit=300)
    page.keyboard.press("Enter")
    page.wait_for_selector("#reconciliation [role=status]:has-text('Reconciliation requested')")
    assert problems(page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_a_parked_event_is_retried_with_the_keyboard_alone(
    browser: Any, course: TestPlatform, cli_json: Callable[..., Any], runtime: Runtime, width: int
) -> None:
    """The parked-events panel: its table passes axe at both widths, and its Retry button puts the
    event back in line (the panel is gone once nothing is parked)."""
    with write_session(runtime.sessions) as session:
        event = models.LmsEvent(source_id=int(canvas_source(cli_json)), body="{}", parsed=[], attempts=10,
                                status=models.EventStatus.PARKED,
                                detail={"error": "ValueError: the course's minutes are not a number"})
        session.add(event)
        session.flush()
        event_id = event.id
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{course.base}/start?user=admin")
    page.wait_for_selector(f"#parked-events tr[data-event='{event_id}']:has-text('not a number')")
    assert problems(page) == []
    tab_to(page, "#parked-events button", limit=300)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Credit mapping')")
    assert page.query_selector("#parked-events") is None
    with runtime.sessions() as session:
        stored = session.get(models.LmsEvent, event_id)
        assert stored is not None and stored.status == models.EventStatus.FAILED
    assert problems(page) == []
