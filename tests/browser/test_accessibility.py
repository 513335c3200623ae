"""Every page passes axe-core's WCAG 2.1 A and AA rules with no violation of impact "serious" or
"critical", fits the width from 360 px to 1280 px without horizontal scrolling, and each form works
with the keyboard alone; in Debian's Chromium, against the real server, launched by a test LMS.

axe-core comes with axe-playwright-python (axe v4.12, MPL-2.0)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from tests.conftest import FIXTURES
from tests.lti.platform import TestPlatform

WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
CREDENTIALS = ("iacet-ceu", "acmss-cmss", "aama-cma")


def problems(page: Any) -> list[str]:
    """axe's serious and critical violations, and horizontal scrolling, of the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG21_AA},
                                       "resultTypes": ["violations"]})
    found = [f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
             for v in results.response["violations"] if v["impact"] in BLOCKING]
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
        found.append(f"{page.url}: scrolls horizontally at {page.viewport_size['width']} px")
    return found


def post_completions(server: str, event_url: str, learners: dict[str, str]) -> None:
    event = json.loads((FIXTURES / "lms" / "canvas_course_completed.json").read_text())
    event["body"]["progress"]["completed_at"] = f"{date.today() - timedelta(days=30)}T15:00:00.000Z"
    url = event_url if event_url.startswith("http") else f"{server}{event_url}"
    for user, name in learners.items():
        event["body"]["user"].update(id=user, name=name)
        assert requests.post(url, json=event, timeout=10).status_code < 300


def map_course(browser: Any, platform: TestPlatform) -> None:
    page = browser.new_page()
    page.goto(f"{platform.base}/start?user=admin")
    page.wait_for_selector("h1:has-text('Credit mapping for course 565')")
    page.fill("#title", "HIPAA for the front office")
    page.fill("#minutes", "120")
    for credential in CREDENTIALS:
        page.check(f"input[name=credentials][value='{credential}']")
    page.select_option("#category", "administrative")
    page.check("input[name=approved_by][value='AAMA']")
    page.click("button[value=save]")
    page.wait_for_selector("text=Mapping saved")
    page.close()


@pytest.fixture
def course(browser: Any, lms: tuple[TestPlatform, str], server: str, cli_json: Callable[..., Any]) -> TestPlatform:
    """Course 565 mapped to three credentials, completed a month ago by the learner and two others;
    the learner holds AAMA's CMA since two years, so the page shows a cycle in progress."""
    platform, event_url = lms
    map_course(browser, platform)
    post_completions(server, event_url, {"123": "Isaac Newton", "124": "Ada Lovelace", "125": "Grace Hopper"})
    [source] = [s for s in cli_json("sources", "list", "--json") if s["name"] == "canvas"]
    cli_json("learners", "credential", "add", "--source", str(source["id"]), "--user", "123",
             "--credential", "aama-cma", "--number", "CMA-1", "--json",
             "--certified-on", str(date.today().replace(year=date.today().year - 2, day=1)))
    return platform


PAGES = {
    "administrator": ("admin", "h1:has-text('Credit mapping')"),
    "instructor": ("teacher", "h1:has-text('Learners of this course')"),
    "learner": ("learner", "h1:has-text('Your continuing-education credit')"),
    "deep-link": ("placer", "h1:has-text('Add the credit tool')"),
}


@pytest.mark.parametrize("width", [360, 1280])
def test_every_page_passes_axe_and_fits_the_width(browser: Any, course: TestPlatform, server: str, width: int) -> None:
    found: list[str] = []
    for name, (user, heading) in PAGES.items():
        page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
        page.goto(f"{course.base}/start?user={user}")
        page.wait_for_selector(heading)
        if name == "learner":
            page.click("article[data-credential='aama-cma'] summary")  # the number and consent form too
        found += problems(page)
        page.context.close()
    error = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    error.goto(f"{server}/lti/learner")
    error.wait_for_selector("h1:has-text('The tool cannot be opened')")
    found += problems(error)
    assert found == []


def tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching ``selector`` has the focus, and check it shows the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{selector} has the focus but shows no outline"
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_mapping_form_works_with_the_keyboard_alone(browser: Any, lms: tuple[TestPlatform, str]) -> None:
    platform, _ = lms
    page = browser.new_page()
    page.goto(f"{platform.base}/start?user=admin")
    page.wait_for_selector("h1:has-text('Credit mapping')")
    tab_to(page, "#title")
    page.keyboard.type("HIPAA for the front office")
    tab_to(page, "#minutes")
    page.keyboard.type("120")
    tab_to(page, "input[name=credentials][value='iacet-ceu']")
    page.keyboard.press("Space")
    page.wait_for_selector("#preview tr[data-credential='iacet-ceu'] td:has-text('0.2')")
    tab_to(page, "button[value=save]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Mapping saved")
    assert page.is_checked("input[name=credentials][value='iacet-ceu']")


def test_the_learners_forms_work_with_the_keyboard_alone(browser: Any, course: TestPlatform) -> None:
    page = browser.new_page()
    page.goto(f"{course.base}/start?user=learner")
    page.wait_for_selector("h1:has-text('Your continuing-education credit')")
    tab_to(page, "#add-credential")
    page.keyboard.type("Certified Medical Support")  # a select picks by typing its option's name
    tab_to(page, "#add-number")
    page.keyboard.type("CMSS-42")
    tab_to(page, "#add-credential-form input[name=consent]")
    page.keyboard.press("Space")
    tab_to(page, "#add-credential-form button")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Saved your details for acmss-cmss")
    card = "article[data-credential='acmss-cmss']"
    tab_to(page, f"{card} summary")
    page.keyboard.press("Enter")
    tab_to(page, f"{card} input[name=number]")
    page.keyboard.press("Control+A")
    page.keyboard.type("CMSS-43")
    tab_to(page, f"{card} button")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Saved your details for acmss-cmss")
    assert page.input_value(f"{card} input[name=number]") == "CMSS-43"


def test_the_outside_credit_form_shows_its_facts_and_errors_accessibly(browser: Any, course: TestPlatform) -> None:
    """Choosing distance learning shows its facts; a field left wrong comes back beside its field;
    axe finds nothing serious in either state."""
    page = browser.new_page()
    page.goto(f"{course.base}/start?user=learner")
    page.wait_for_selector("h1:has-text('Your continuing-education credit')")
    assert page.is_hidden("#outside-pilot-minutes")
    tab_to(page, "#outside-title")
    page.keyboard.type("Coding webinar")
    tab_to(page, "#outside-provider")
    page.keyboard.type("State society")
    tab_to(page, "#outside-minutes")
    page.keyboard.type("60")
    tab_to(page, "#outside-activity")
    page.keyboard.type("distance")  # a select picks by typing its option's name
    page.wait_for_selector("#outside-pilot-minutes", state="visible")
    tab_to(page, "#outside-pilot-minutes")
    page.keyboard.type("75")
    assert problems(page) == []
    tab_to(page, "#outside-form button")
    page.keyboard.press("Enter")  # no date: refused beside the date field
    page.wait_for_selector("#outside-date-error")
    assert page.get_attribute("#outside-date", "aria-describedby") == "outside-date-error"
    assert page.input_value("#outside-pilot-minutes") == "75" and page.is_visible("#outside-pilot-minutes")
    assert problems(page) == []


def test_the_instructors_search_and_sorting_work_with_the_keyboard_alone(browser: Any, course: TestPlatform) -> None:
    page = browser.new_page()
    page.goto(f"{course.base}/start?user=teacher")
    page.wait_for_selector("h1:has-text('Learners of this course')")
    tab_to(page, "#q")
    page.keyboard.type("hopper")
    page.keyboard.press("Enter")
    page.wait_for_selector("#roster-count:has-text('matching')")
    assert "Isaac Newton" not in page.inner_text("#roster") and "Grace Hopper" in page.inner_text("#roster")
    tab_to(page, "#roster a[data-sort=credit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#roster th[aria-sort='ascending'] >> text=Credit")
    assert "Grace Hopper" in page.inner_text("#roster"), "sorting keeps the search"


def test_the_deep_link_picker_works_with_the_keyboard_alone(browser: Any, lms: tuple[TestPlatform, str]) -> None:
    platform, _ = lms
    received: list[str] = []
    platform.on_dl_response = received.append
    page = browser.new_page()
    page.goto(f"{platform.base}/start?user=placer")
    page.wait_for_selector("h1:has-text('Add the credit tool')")
    tab_to(page, "#title")
    page.keyboard.press("Control+A")
    page.keyboard.type("CE credit")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=content item received")
    assert len(received) == 1


def test_the_learners_page_prints_as_a_record_without_forms(browser: Any, course: TestPlatform) -> None:
    page = browser.new_page()
    page.goto(f"{course.base}/start?user=learner")
    page.wait_for_selector("h1:has-text('Your continuing-education credit')")
    page.emulate_media(media="print")
    assert page.is_visible("article[data-credential='aama-cma'] .requirement")
    assert page.is_hidden("#add-credential-form") and page.is_hidden("article[data-credential='aama-cma'] form")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
