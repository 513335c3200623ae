"""End to end in headless Chromium: a test LMS on 127.0.0.1 launches the real server process as an
administrator (who maps the course, with its live preview), the LMS posts a completion event, and the
learner's page then shows the credit, a certificate that downloads as a PDF and an audit packet that
downloads as a ZIP; the instructor sees the learner in the course roster."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import requests

from tests.browser.conftest import snap
from tests.conftest import FIXTURES
from tests.lti.platform import TestPlatform

CREDENTIAL = "iacet-ceu"


def test_admin_maps_the_course_and_the_learner_gets_credit_and_a_certificate(
    browser: Any, lms: tuple[TestPlatform, str], server: str, tmp_path: Path
) -> None:
    platform, event_url = lms
    page = browser.new_context(accept_downloads=True).new_page()

    page.goto(f"{platform.base}/start?user=admin")
    page.wait_for_selector("h1:has-text('Credit mapping for course 565')")
    page.fill("#title", "HIPAA for the front office")
    page.fill("#minutes", "120")
    page.check(f"input[name=credentials][value='{CREDENTIAL}']")
    page.wait_for_selector(f"#preview tr[data-credential='{CREDENTIAL}'] td:has-text('0.2')")
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
    assert learner.inner_text(f"[data-total='{CREDENTIAL}']") == "0.2 CEUs"
    snap(learner, "learner")
    card = learner.inner_text(f"article[data-credential='{CREDENTIAL}']")
    assert "Continuing Education Units (IACET convention)" in card, "the credential's name, not its id"
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
        learner.click(f".audit-packets[data-credential='{CREDENTIAL}'] >> text=audit packet, all awards")
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
