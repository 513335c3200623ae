"""``make demo``: a fresh SQLite instance with demo sources and mappings, the server and the clock.

Run as ``python -m lti_tool.demo``. It prints the URLs and a ready ``curl`` command that posts the
sample Canvas completion; Ctrl-C stops both processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from lti_tool.db import write_session
from lti_tool.runtime import build_runtime
from lti_tool.schema import upgrade
from lti_tool.services.mappings import import_mappings, read_mapping_file
from lti_tool.services.sources import add_source
from lti_tool.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "fixtures" / "lms" / "canvas_course_completed.json"


def prepare(instance_dir: Path) -> dict[str, str]:
    """A fresh demo database: two sources and the example mappings. Returns the sources' URLs."""
    shutil.rmtree(instance_dir, ignore_errors=True)
    settings = load_settings(instance_dir=instance_dir, database_url="")
    rt = build_runtime(settings)
    upgrade(rt.engine)
    with write_session(rt.sessions) as session:
        canvas = add_source(session, kind="canvas", name="demo-canvas")
        moodle = add_source(session, kind="moodle", name="demo-moodle")
        import_mappings(session, read_mapping_file(settings.config_dir / "mappings.example.toml"), rt.rulebook)
    rt.engine.dispose()
    return {"canvas": canvas.url, "moodle": moodle.url}


def wait_until_up(base: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start; see its log above")


def main() -> None:
    instance_dir = Path(os.environ.get("LTI_TOOL_INSTANCE_DIR", "instance/demo"))
    os.environ.setdefault("LTI_TOOL_EXPORTS_PATH", str(ROOT / "config" / "exports.demo.toml"))
    settings = load_settings(instance_dir=instance_dir, database_url="")
    urls = prepare(instance_dir)
    env = {**os.environ, "LTI_TOOL_INSTANCE_DIR": str(instance_dir), "DATABASE_URL": "",
           "LTI_TOOL_SERVER__DEVELOPMENT": "true", "LTI_TOOL_OUTBOUND__ALLOW_PRIVATE_ADDRESSES": "true"}
    base = f"http://{settings.server.host}:{settings.server.port}"
    server = subprocess.Popen([sys.executable, "-m", "lti_tool", "serve"], env=env)
    clock = subprocess.Popen([sys.executable, "-m", "lti_tool", "scheduler"], env=env)
    try:
        wait_until_up(base, server)
        print(json.dumps({"server": base, "sources": urls}, indent=2))
        print(f"""
lti-tool demo is running (SQLite in {instance_dir}/).
  Canvas events:  {base}{urls['canvas']}
  Moodle events:  {base}{urls['moodle']}
  Health:         {base}/healthz

Post the sample Canvas completion (course 565, 90 minutes, mapped to ACMSS, ACMPE and IACET):

  curl -sS -X POST -H 'Content-Type: application/json' --data @{SAMPLE} {base}{urls['canvas']}

Then: .venv/bin/lti-tool awards list   (with LTI_TOOL_INSTANCE_DIR={instance_dir})
The scheduler exports each minute to {instance_dir}/exports/<credential>/*.csv
Ctrl-C stops the server and the scheduler.
""", flush=True)
        while server.poll() is None and clock.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (server, clock):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (server, clock):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
