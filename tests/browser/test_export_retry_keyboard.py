"""The exports panel's Retry form works with the keyboard alone: an administrator tabs to a dead
batch's Retry button (its focus visible), presses Enter, and the batch is back in line; in Debian's
Chromium, against the real server, with exports that go by SMTP to a closed port (one attempt)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from lti_tool.settings import Settings
from tests.browser.test_accessibility import map_course, post_completions, problems, tab_to
from tests.lti.exports import dead_letter_settings, export_tick
from tests.lti.platform import TestPlatform


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return dead_letter_settings(database_url, tmp_path)


def batches(runtime: Runtime) -> dict[int, str]:
    with read_session(runtime.sessions) as session:
        return {b.id: b.status for b in session.scalars(select(models.ExportBatch))}


def test_the_retry_form_works_with_the_keyboard_alone(
    browser: Any, lms: tuple[TestPlatform, str], server: str, runtime: Runtime, cli_json: Callable[..., Any]
) -> None:
    platform, event_url = lms
    map_course(browser, platform)
    post_completions(server, event_url, {"123": "Isaac Newton"})
    export_tick(runtime)  # the SMTP server refuses: with one attempt allowed, every batch is dead
    dead = batches(runtime)
    assert dead and set(dead.values()) == {"dead"}
    batch = min(dead)
    page = browser.new_page()
    page.goto(f"{platform.base}/start?user=admin")
    page.wait_for_selector(f"#dead-batches tr[data-batch='{batch}']")
    assert problems(page) == []
    tab_to(page, f"#dead-batches tr[data-batch='{batch}'] button[type=submit]", limit=400)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Export batch {batch} is back in line")
    assert batches(runtime)[batch] != "dead"
    assert page.locator(f"#dead-batches tr[data-batch='{batch}']").count() == 0
