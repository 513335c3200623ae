"""`make demo`'s program: it serves, its curl command credits, and Ctrl-C stops both processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO, free_port


@pytest.mark.skipif(bool(os.environ.get("LTI_TOOL_TEST_DATABASE_URL")),
                    reason="the demo always runs on SQLite: covered by the SQLite pass")
def test_demo_serves_and_its_curl_command_leads_to_a_credited_award(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "LTI_TOOL_INSTANCE_DIR": str(tmp_path / "demo"), "LTI_TOOL_SERVER__PORT": str(port),
           "LTI_TOOL_CONFIG_DIR": str(REPO / "config")}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "lti_tool.demo"], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = ""
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline and "curl -sS" not in output:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        match = re.search(r"--data @(\S+) (http://\S+)", output)
        assert match, output
        sample, url = match.groups()
        response = requests.post(url, data=Path(sample).read_bytes(),
                                 headers={"Content-Type": "application/json"}, timeout=10)
        assert response.json()["status"] == "credited", response.text
        exports = tmp_path / "demo" / "exports"
        deadline = time.monotonic() + 75  # the demo's scheduler ticks every minute
        while time.monotonic() < deadline and not list(exports.rglob("*.csv")):
            time.sleep(0.5)
        csv_files = list(exports.rglob("*.csv"))
        assert csv_files, "the scheduler exported nothing"
        assert any("565" in f.read_text() for f in csv_files)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
