"""Where CI requires the chromium suite, a missing browser fails the end-to-end test instead of
skipping it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

JOURNEY = "tests/browser/test_lti_journey.py"


def run_journey(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "LTI_TOOL_REQUIRE_SUITES"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", JOURNEY],
        cwd=REPO, env={**environ, "LTI_TOOL_CHROMIUM": "/nonexistent/chromium", **env},
        capture_output=True, text=True, timeout=300)


def test_a_missing_chromium_fails_where_the_suite_is_required() -> None:
    result = run_journey(LTI_TOOL_REQUIRE_SUITES="postgresql,chromium,pdf")
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout and "suite 'chromium' is required" in result.stdout


def test_a_missing_chromium_skips_elsewhere() -> None:
    result = run_journey()
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
