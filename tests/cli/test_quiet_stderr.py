"""A command that succeeds says nothing on stderr: its --json answer is read whole even with 2>&1."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_a_json_command_writes_its_answer_and_no_warning() -> None:
    done = subprocess.run([sys.executable, "-m", "lti_tool", "plugins", "list", "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert any(plugin["credential"] == "aama-cma" for plugin in json.loads(done.stdout))
