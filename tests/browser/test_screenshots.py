"""The README's screenshots (``make screenshots`` -> docs/screenshots/) show the demo's data: the
browser suite's database seeded by the demo's own seeding (:func:`lti_tool.demo.seed`), so the
learner is mid-cycle on two credentials, one short in a category, and the course has a class.
Each page is checked as it is shot: its heading, axe's blocking rules and the width."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from lti_tool import demo
from lti_tool.demo_lms import COURSE
from lti_tool.runtime import Runtime
from tests.browser.conftest import course_platform, snap
from tests.browser.test_accessibility import PAGES, problems
from tests.lti.platform import TestPlatform


@pytest.fixture
def demo_course(server: str, cli: Callable[..., Any], cli_json: Callable[..., Any],
                runtime: Runtime) -> Iterator[TestPlatform]:
    cli("init")
    demo.seed(runtime, runtime.settings.config_dir, date.today())
    platform = course_platform(server, cli_json, "demo-canvas")
    yield platform
    platform.stop()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_demos_pages_are_shot_as_a_newcomer_meets_them(
    browser: Any, demo_course: TestPlatform, server: str, width: int
) -> None:
    found: list[str] = []
    for name, (user, heading) in PAGES.items():
        page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
        page.goto(f"{demo_course.base}/start?user={user}")
        page.wait_for_selector(heading)
        if name == "learner":
            cards = page.locator("article.card.renewal")
            assert {cards.nth(i).get_attribute("data-credential") for i in range(cards.count())} >= {
                "aama-cma", "acmpe-cmpe"}
            assert page.locator("article[data-credential='aama-cma'] .badge.short").count() == 1
        if name == "instructor":
            assert page.locator("table tbody tr").count() >= 20, "the demo's class of course " + COURSE
        found += problems(page)
        snap(page, f"{name}-{width}")
        page.context.close()
    error = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    error.goto(f"{server}/lti/learner")
    error.wait_for_selector("h1:has-text('The tool cannot be opened')")
    found += problems(error)
    snap(error, f"error-{width}")
    assert found == [], found
