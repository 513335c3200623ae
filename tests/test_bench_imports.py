"""Each benchmark measures its own checkout: run from this repository while another ``lti_tool`` is
importable (installed from another checkout), every bench script and helper still imports this
repository's package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = sorted(p.name for p in (REPO / "bench").glob("*.py") if "__main__" in p.read_text(encoding="utf-8"))
HELPERS = sorted(p.stem for p in (REPO / "bench").glob("*.py") if p.name not in SCRIPTS)


@pytest.fixture
def another_checkout(tmp_path: Path) -> dict[str, str]:
    """An environment where ``import lti_tool`` finds another checkout's package first (ahead of
    the installed one): one that refuses to be imported."""
    package = tmp_path / "lti_tool"
    package.mkdir()
    (package / "__init__.py").write_text('raise ImportError("the lti_tool of another checkout was imported")\n')
    return {**os.environ, "PYTHONPATH": str(tmp_path)}


def test_the_bench_directory_has_the_scripts_and_helpers_this_test_runs() -> None:
    assert {"export.py", "ingest.py", "launch.py", "pages.py", "backfill.py"} <= set(SCRIPTS)
    assert {"bulk", "harness", "launching"} <= set(HELPERS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_bench_script_imports_its_own_checkout_s_package(script: str, another_checkout: dict[str, str],
                                                           tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / script), "--help"], env=another_checkout,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "another checkout" not in done.stderr


@pytest.mark.parametrize("helper", HELPERS)
def test_a_bench_helper_imports_its_own_checkout_s_package(helper: str, another_checkout: dict[str, str],
                                                           tmp_path: Path) -> None:
    probe = (f"import sys; sys.path.insert(0, {str(REPO / 'bench')!r}); import {helper}; import lti_tool; "
             f"print(lti_tool.__file__)")
    done = subprocess.run([sys.executable, "-c", probe], env=another_checkout, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve() == REPO / "lti_tool" / "__init__.py"
