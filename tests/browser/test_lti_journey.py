"""End to end in headless Chromium: a test LMS on 127.0.0.1 launches the real server process as an
administrator (who maps the course, with its live preview), the LMS posts a completion event, and the
learner's page then shows the credit, a certificate that downloads as a PDF and an audit packet that
downloads as a ZIP; the instructor sees the learner in the course roster."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import FIXTURES, require
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR, LEARNER, LTI, TestPlatform

CHROMIUM = Path(os.environ.get("LTI_TOOL_CHROMIUM", "/usr/bin/chromium"))
"""Debian's chromium; LTI_TOOL_CHROMIUM names another (tests/browser/test_required.py points it away)."""
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CREDENTIAL = "iacet-ceu"
SCREENSHOTS = os.environ.get("LTI_TOOL_SCREENSHOTS")
"""A folder: the journey saves a full-page PNG of each page there, for a person to look at."""


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


@pytest.fixture
def lms(server: str, cli: Callable[..., Any], cli_json: Callable[..., Any]) -> Iterator[tuple[TestPlatform, str]]:
    """A Canvas-like platform registered with the running tool, sharing the 'canvas' event source."""
    cli("init")
    source = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas")
    platform = TestPlatform(context_id="lti-context-565").start()
    platform.tool_base = server
    custom = LTI + "custom"
    platform.users = {
        "admin": {"sub": "lti-admin", "roles": ADMINISTRATOR, custom: {"canvas_user_id": "9", "canvas_course_id": "565"}},
        "teacher": {"sub": "lti-teacher", "roles": INSTRUCTOR, custom: {"canvas_user_id": "8", "canvas_course_id": "565"}},
        "learner": {"sub": "lti-learner", "roles": LEARNER, "name": "Isaac Newton",
                    custom: {"canvas_user_id": "123", "canvas_course_id": "565"}},
    }
    cli_json(*platform.cli_args(source="canvas"))
    yield platform, source["url"]
    platform.stop()


def test_admin_maps_the_course_and_the_learner_gets_credit_and_a_certificate(
    browser: Any, lms: tuple[TestPlatform, str], server: str, tmp_path: Path
) -> None:
    platform, event_url = lms
    page = browser.new_context(accept_downloads=True).new_page()

    page.goto(f"{platform.base}/start?user=admin")
    page.wait_for_selector("h1:has-text('Credit mapping for course 565')")
    page.fill("#title", "HIPAA for the front office")
    page.fill("#minutes", "120")
    page.fill("#credentials", CREDENTIAL)
    page.wait_for_selector(f"#preview td:has-text('{CREDENTIAL}')")
    page.wait_for_selector("#preview td:has-text('0.2')")
    page.click("button[value=save]")
    page.wait_for_load_state()
    assert "Mapping saved" in page.content(), page.content()
    snap(page, "administrator")

    event = json.loads((FIXTURES / "lms" / "canvas_course_completed.json").read_text())
    posted = requests.post(event_url if event_url.startswith("http") else f"{server}{event_url}",
                           json=event, timeout=10)
    assert posted.status_code < 300, posted.text

    learner = browser.new_context(accept_downloads=True).new_page()
    learner.goto(f"{platform.base}/start?user=learner")
    learner.wait_for_selector("h1:has-text('Your continuing-education credit')")
    assert learner.inner_text(f"td[data-credential='{CREDENTIAL}']") == "0.2"
    snap(learner, "learner")
    assert "Continuing Education Units (IACET convention)" in learner.inner_text("table"), "the credential's name, not its id"
    with learner.expect_download() as download_info:
        learner.click("text=PDF certificate")
    pdf = tmp_path / "certificate.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
        for words in ("HIPAA for the front office", "120 minutes", "0.2 CEUs", "Isaac Newton"):
            assert words in text, text
    with learner.expect_download() as packet_info:
        learner.click(f"#audit-packets li[data-credential='{CREDENTIAL}'] >> text=audit packet, all awards")
    assert packet_info.value.suggested_filename == f"audit-packet-{CREDENTIAL}.zip"
    packet = tmp_path / "packet.zip"
    packet_info.value.save_as(packet)
    with zipfile.ZipFile(packet) as archive:
        assert f"Audit packet: {CREDENTIAL} for Isaac Newton" in archive.read("README.txt").decode()
        assert [n for n in archive.namelist() if n.startswith("evidence/award-")]

    teacher = browser.new_context().new_page()
    teacher.goto(f"{platform.base}/start?user=teacher")
    teacher.wait_for_selector("h1:has-text('Learners of this course')")
    assert "Isaac Newton" in teacher.inner_text("main")
    snap(teacher, "instructor")
