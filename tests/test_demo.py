"""`make demo`'s program: it serves, its curl command credits, its demo LMS launches the tool's pages
over real LTI 1.3 as each audience, and Ctrl-C stops every process."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO, free_port, require

pytestmark = pytest.mark.skipif(bool(os.environ.get("LTI_TOOL_TEST_DATABASE_URL")),
                                reason="the demo always runs on SQLite: covered by the SQLite pass")


AS_FROM_A_TERMINAL = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                      "runpy.run_module('lti_tool.demo', run_name='__main__')")
"""``python -m lti_tool.demo`` with Ctrl-C's default: a shell that runs pytest in the background
starts it with SIGINT ignored, which its children inherit, and Ctrl-C would not stop the demo."""


@dataclass
class Demo:
    output: str
    instance: Path
    lms: str


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (gunicorn's workers), while they run."""
    try:
        children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [each for child in children for each in (child, *descendants(child))]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@contextmanager
def running_demo(tmp_path: Path, stop: signal.Signals = signal.SIGINT) -> Iterator[Demo]:
    port, lms_port = free_port(), free_port()
    env = {**os.environ, "LTI_TOOL_INSTANCE_DIR": str(tmp_path / "demo"), "LTI_TOOL_SERVER__PORT": str(port),
           "LTI_TOOL_DEMO_LMS_PORT": str(lms_port), "LTI_TOOL_CONFIG_DIR": str(REPO / "config")}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-c", AS_FROM_A_TERMINAL], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = ""
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline and "Ctrl-C stops" not in output:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        yield Demo(output, tmp_path / "demo", f"http://127.0.0.1:{lms_port}")
    finally:
        started = descendants(process.pid)
        process.send_signal(stop)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert len(started) >= 3, started  # the server (and its worker) and the scheduler
    assert not [pid for pid in started if alive(pid)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One demo for the page tests; they run in file order (the sample completion comes last)."""
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


def launch(lms: str, user: str, browser: requests.Session | None = None) -> requests.Response:
    """What a browser does on 'Open as …': login initiation, the OIDC request, the id_token form post."""
    browser = browser or requests.Session()
    authorize = browser.get(f"{lms}/open?user={user}", timeout=10)
    assert authorize.status_code == 200, authorize.text
    form = dict(re.findall(r'name="(id_token|state)" value="([^"]*)"', authorize.text))
    action = html.unescape(re.search(r'action="([^"]+)"', authorize.text).group(1))  # type: ignore[union-attr]
    return browser.post(action, data=form, timeout=10)


def test_the_printed_instructions_name_the_demo_lms_first(demo: Demo) -> None:
    instructions = demo.output[demo.output.index("lti-tool demo is running"):]
    first_url = re.search(r"http://\S+", instructions)
    assert first_url and first_url.group(0).rstrip("/") == demo.lms, instructions


def test_the_demo_lms_page_offers_each_audience_and_a_sample_completion(demo: Demo) -> None:
    page = requests.get(demo.lms + "/", timeout=10).text
    for label in ("Open as administrator", "Open as instructor", "Open as learner", "Post a sample completion"):
        assert label in page


def test_opening_as_administrator_is_a_real_launch_into_the_course_mapping(demo: Demo) -> None:
    page = launch(demo.lms, "admin")
    assert page.status_code == 200, page.text
    assert "Credit mapping for course 565" in page.text


def test_opening_as_instructor_shows_the_course_learners(demo: Demo) -> None:
    page = launch(demo.lms, "teacher")
    assert page.status_code == 200, page.text
    assert "Ada Lovelace" in page.text and "Charles Drew" in page.text and "Next page" in page.text


def test_the_demo_learner_is_mid_cycle_on_two_credentials_and_short_in_a_category(demo: Demo) -> None:
    page = launch(demo.lms, "learner").text
    assert "Certified Medical Assistant" in page and "Certified Medical Practice Executive" in page
    assert re.search(r">General</span><span>0 of 10 recertification points<", page), page
    assert "10 more recertification points (general)" in page


def test_the_demo_certificates_name_the_issuing_organisation(demo: Demo, tmp_path: Path) -> None:
    browser = requests.Session()
    page = launch(demo.lms, "learner", browser)
    link = re.search(r'href="(/lti/certificates/\d+\.pdf)"', page.text)
    assert link, page.text
    pdf = browser.get(page.url.split("/lti/")[0] + link.group(1), timeout=10)
    assert pdf.content.startswith(b"%PDF-")
    require("pdf", shutil.which("pdftotext") is not None, "poppler-utils (pdftotext) is not installed")
    (tmp_path / "c.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "Demo Medical Office Academy" in text


def test_the_sample_completion_button_credits_the_learner(demo: Demo) -> None:
    after = requests.post(demo.lms + "/complete", timeout=20)
    assert "the tool answered “credited”" in after.text, after.text
    assert "HIPAA for the front office" in launch(demo.lms, "learner").text


def test_demo_serves_and_its_curl_command_leads_to_a_credited_award(tmp_path: Path) -> None:
    with running_demo(tmp_path) as demo:
        curl_credits_and_the_scheduler_exports(demo)


def test_kill_stops_the_demo_as_ctrl_c_does(tmp_path: Path) -> None:
    with running_demo(tmp_path, stop=signal.SIGTERM) as demo:
        assert requests.get(demo.lms + "/", timeout=10).status_code == 200


def curl_credits_and_the_scheduler_exports(demo: Demo) -> None:
    match = re.search(r"--data @(\S+) (http://\S+)", demo.output)
    assert match, demo.output
    sample, url = match.groups()
    response = requests.post(url, data=Path(sample).read_bytes(),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.json()["status"] == "credited", response.text
    exports = demo.instance / "exports"
    deadline = time.monotonic() + 75  # the demo's scheduler ticks every minute
    while time.monotonic() < deadline and not list(exports.rglob("*.csv")):
        time.sleep(0.5)
    csv_files = list(exports.rglob("*.csv"))
    assert csv_files, "the scheduler exported nothing"
    assert any("565" in f.read_text() for f in csv_files)
