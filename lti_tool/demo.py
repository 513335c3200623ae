"""``make demo``: a fresh SQLite instance with demo sources, mappings and learners, the server, the
clock and a demo LMS (:mod:`lti_tool.demo_lms`) that launches the tool's pages over real LTI 1.3.

Run as ``python -m lti_tool.demo``. It prints the demo LMS's page first, then the event URLs and a
ready ``curl`` command that posts the sample Canvas completion; Ctrl-C stops everything.
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
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from lti_tool.db import write_session
from lti_tool.demo_lms import COURSE, LEARNER_ID, LEARNER_NAME, DemoLms, canvas_completion
from lti_tool.events.canvas import parse_canvas
from lti_tool.lti.platforms import add_platform
from lti_tool.runtime import Runtime, build_runtime
from lti_tool.schema import upgrade
from lti_tool.services.ingestion import Submission, record_events
from lti_tool.services.learners import LearnerKey, add_credential
from lti_tool.services.mappings import import_mappings, read_mapping_file
from lti_tool.services.sources import add_source
from lti_tool.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "fixtures" / "lms" / "canvas_course_completed.json"
ISSUER = "Demo Medical Office Academy"
"""The issuing organisation the demo's certificates name."""
CLASSMATES = ("Ada Lovelace", "Mary Seacole", "Clara Barton", "Elizabeth Blackwell", "Virginia Apgar",
              "Rebecca Lee", "Dorothea Dix", "Linda Richards", "Mary Breckinridge", "Susie Taylor",
              "Lillian Wald", "Margaret Sanger", "Jonas Salk", "Daniel Williams", "Charles Drew",
              "William Osler", "Joseph Lister", "Edward Jenner", "Ignaz Semmelweis", "Rene Laennec",
              "Hattie Caraway", "Estelle Massey", "Mabel Staupers", "Loretta Ford", "Ida Scudder")


def prepare(instance_dir: Path, lms: DemoLms | None = None) -> dict[str, str]:
    """A fresh demo database: two sources, the example and demo mappings, the demo LMS registered as
    a platform of the Canvas source, and learners with credit. Returns the sources' URLs."""
    shutil.rmtree(instance_dir, ignore_errors=True)
    settings = load_settings(instance_dir=instance_dir, database_url="")
    rt = build_runtime(settings)
    upgrade(rt.engine, rulebook=rt.rulebook)
    urls = seed(rt, settings.config_dir, date.today(), platform=lms.platform_fields() if lms else None)
    rt.engine.dispose()
    return urls


def seed(rt: Runtime, config_dir: Path, today: date, platform: dict[str, Any] | None = None) -> dict[str, str]:
    """The demo's data in ``rt``'s (migrated, empty) database: the sources ``demo-canvas`` and
    ``demo-moodle``, the example and demo mappings, ``platform`` (``add_platform``'s fields) as a
    platform of the Canvas source, and the learners with credit. ``make screenshots`` seeds the
    browser suite's database with it too, so the README shows the demo's pages."""
    with write_session(rt.sessions) as session:
        canvas = add_source(session, kind="canvas", name="demo-canvas")
        moodle = add_source(session, kind="moodle", name="demo-moodle")
        specs = [*read_mapping_file(config_dir / "mappings.example.toml"),
                 *read_mapping_file(config_dir / "mappings.demo.toml")]
        import_mappings(session, specs, rt.rulebook)
        if platform is not None:
            add_platform(session, source_name="demo-canvas", **platform)
        canvas_id = identity_id = canvas.id  # a new source is its own identity
        urls = {"canvas": canvas.url, "moodle": moodle.url}
    seed_learners(rt, canvas_id, identity_id, today)
    return urls


def seed_learners(rt: Runtime, source_id: int, identity_id: int, today: date) -> None:
    """The demo learner holds two credentials mid-cycle (AAMA's CMA short of its ten general points,
    ACMPE's CMPE short of its live MGMA hours) and a class of learners completed the sample course,
    each event going the way a real one does (parsed, stored, credited)."""
    with write_session(rt.sessions) as session:
        add_credential(session, rt.rulebook, key=LearnerKey(identity_id, LEARNER_ID), credential="aama-cma",
                       number="CMA-204518", certified_on=date(today.year - 2, 3, 15), cycle_start=None)
        add_credential(session, rt.rulebook, key=LearnerKey(identity_id, LEARNER_ID), credential="acmpe-cmpe",
                       number="MGMA-77120", certified_on=date(today.year - 7, 6, 1), cycle_start=None)
    events = [canvas_completion(LEARNER_ID, LEARNER_NAME, course, title, _days_ago(today, days))
              for course, title, days in (("601", "Front-desk communication", 300),
                                          ("602", "Infection control", 120),
                                          ("603", "Revenue cycle essentials", 60))]
    for number, name in enumerate(CLASSMATES):
        events.append(canvas_completion(str(201 + number), name, COURSE, "HIPAA for the front office",
                                        _days_ago(today, 3 + number * 4)))
        if number % 3 == 0:
            events.append(canvas_completion(str(201 + number), name, "602", "Infection control",
                                            _days_ago(today, 40 + number)))
    submissions = []
    for event in events:
        body = json.dumps(event)
        parsed = parse_canvas(body.encode(), jwks_url=None, jwks=rt.jwks)
        submissions.append(Submission(source_id, identity_id, body, "application/json", parsed))
    for outcome in record_events(rt.sessions, rt.rulebook, submissions):
        if isinstance(outcome, Exception):
            raise outcome


def _days_ago(today: date, days: int) -> datetime:
    return datetime.combine(today - timedelta(days=days), dtime(14, 30), tzinfo=UTC)


def wait_until_up(base: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start; see its log above")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as Ctrl-C does
    instance_dir = Path(os.environ.get("LTI_TOOL_INSTANCE_DIR", "instance/demo"))
    os.environ.setdefault("LTI_TOOL_EXPORTS_PATH", str(ROOT / "config" / "exports.demo.toml"))
    os.environ.setdefault("LTI_TOOL_CERTIFICATES__ISSUER_NAME", ISSUER)
    # The demo runs on 127.0.0.1 over plain http: a development server whose tool calls (the demo
    # LMS's keyset) go to loopback. Never set these in production.
    os.environ.setdefault("LTI_TOOL_SERVER__DEVELOPMENT", "true")
    os.environ.setdefault("LTI_TOOL_OUTBOUND__ALLOW_PRIVATE_ADDRESSES", "true")
    settings = load_settings(instance_dir=instance_dir, database_url="")
    base = f"http://{settings.server.host}:{settings.server.port}"
    lms_port = int(os.environ.get("LTI_TOOL_DEMO_LMS_PORT", settings.server.port + 1))
    lms = DemoLms(tool_base=base, host=settings.server.host, port=lms_port)
    urls = prepare(instance_dir, lms)
    lms.event_url = f"{base}{urls['canvas']}"
    env = {**os.environ, "LTI_TOOL_INSTANCE_DIR": str(instance_dir), "DATABASE_URL": ""}
    server = subprocess.Popen([sys.executable, "-m", "lti_tool", "serve"], env=env)
    clock = subprocess.Popen([sys.executable, "-m", "lti_tool", "scheduler"], env=env)
    try:
        wait_until_up(base, server)
        lms.serve()
        print(json.dumps({"server": base, "lms": lms.base, "sources": urls}, indent=2))
        print(f"""
lti-tool demo is running (SQLite in {instance_dir}/).

  Demo LMS:       {lms.base}/
                  open the tool as administrator, instructor or learner of course {COURSE}
                  (real LTI 1.3 launches), and post a sample completion for {LEARNER_NAME}

  Canvas events:  {base}{urls['canvas']}
  Moodle events:  {base}{urls['moodle']}
  Health:         {base}/healthz

Post the sample Canvas completion (course 565, 90 minutes, mapped to ACMSS, ACMPE and IACET):

  curl -sS -X POST -H 'Content-Type: application/json' --data @{SAMPLE} {base}{urls['canvas']}

Then: .venv/bin/lti-tool awards list   (with LTI_TOOL_INSTANCE_DIR={instance_dir})
The scheduler exports each minute to {instance_dir}/exports/<credential>/*.csv
Ctrl-C stops the server, the scheduler and the demo LMS.
""", flush=True)
        while server.poll() is None and clock.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        lms.stop()
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
