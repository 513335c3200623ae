"""The browser suite's parts: Debian's Chromium driven by Playwright, and a Canvas-like test LMS
registered with the running tool (the real server process), with an administrator, an instructor and
a learner of course 565."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR, LEARNER, LTI, TestPlatform

CHROMIUM = Path(os.environ.get("LTI_TOOL_CHROMIUM", "/usr/bin/chromium"))
"""Debian's chromium; LTI_TOOL_CHROMIUM names another (tests/browser/test_required.py points it away)."""
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = os.environ.get("LTI_TOOL_SCREENSHOTS")
"""A folder: the journeys save a full-page PNG of each page there, for a person to look at
(``make screenshots`` writes docs/screenshots/)."""
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def snap(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def browser() -> Iterator[Any]:
    require("chromium", CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    require("chromium", importlib.util.find_spec("playwright") is not None,
            "the Python package playwright is not installed (pip install -e '.[test]')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


def course_platform(server: str, cli_json: Callable[..., Any], source: str) -> TestPlatform:
    """A Canvas-like platform of course 565 with its administrator, instructor, learner (Canvas user
    123, Isaac Newton) and a deep-linking instructor, registered with the running tool for ``source``."""
    platform = TestPlatform(context_id="lti-context-565").start()
    platform.tool_base = server
    custom = LTI + "custom"
    platform.users = {
        "admin": {"sub": "lti-admin", "roles": ADMINISTRATOR, custom: {"canvas_user_id": "9", "canvas_course_id": "565"}},
        "teacher": {"sub": "lti-teacher", "roles": INSTRUCTOR, custom: {"canvas_user_id": "8", "canvas_course_id": "565"}},
        "learner": {"sub": "lti-learner", "roles": LEARNER, "name": "Isaac Newton",
                    custom: {"canvas_user_id": "123", "canvas_course_id": "565"}},
        "placer": {"sub": "lti-placer", "roles": INSTRUCTOR, LTI + "resource_link": None,
                   LTI + "message_type": "LtiDeepLinkingRequest",
                   custom: {"canvas_user_id": "8", "canvas_course_id": "565"},
                   DL_SETTINGS: {"deep_link_return_url": f"{platform.base}/deep-link-return",
                                 "accept_types": ["ltiResourceLink"], "data": "opaque-1",
                                 "accept_presentation_document_targets": ["iframe"]}},
    }
    cli_json(*platform.cli_args(source=source))
    return platform


@pytest.fixture
def lms(server: str, cli: Callable[..., Any], cli_json: Callable[..., Any]) -> Iterator[tuple[TestPlatform, str]]:
    """A Canvas-like platform registered with the running tool, sharing the 'canvas' event source."""
    cli("init")
    source = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas")
    platform = course_platform(server, cli_json, "canvas")
    yield platform, source["url"]
    platform.stop()
