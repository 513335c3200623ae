"""The scheduler is a clock: cron jobs from config/exports.toml, ticks that read the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from flask.testing import FlaskClient

from lti_tool.runtime import Runtime
from lti_tool.scheduler import ScheduleError, build_scheduler, load_schedule
from tests.conftest import REPO
from tests.spine import fixture_bytes, import_mapping


def test_jobs_come_from_the_config_and_coalesce_missed_runs(runtime: Runtime) -> None:
    clock = build_scheduler(runtime, BackgroundScheduler)
    clock.start(paused=True)
    try:
        jobs = {job.id: job for job in clock.get_jobs()}
        assert set(jobs) == {"export", "reprocess", "reconcile", "reconcile_requests"}
        for job in jobs.values():
            assert isinstance(job.trigger, CronTrigger)
            assert job.coalesce is True and job.misfire_grace_time is None and job.max_instances == 1
    finally:
        clock.shutdown(wait=False)


def test_a_credential_with_its_own_cron_gets_its_own_job(runtime: Runtime, tmp_path: Path) -> None:
    from lti_tool.exports.config import build_exports
    from lti_tool.exports.discovery import discover

    path = tmp_path / "exports.toml"
    path.write_text('[credentials.acmss-cmss]\ncron = "0 6 * * 1"\n')
    runtime.settings = runtime.settings.model_copy(update={"config_dir": tmp_path, "exports_path": None})
    runtime.exports = build_exports(path, discover(), runtime.settings.instance_dir)
    clock = build_scheduler(runtime, BackgroundScheduler)
    clock.start(paused=True)
    try:
        assert {job.id for job in clock.get_jobs()} == {"export", "reprocess", "reconcile", "reconcile_requests",
                                                       "export:acmss-cmss"}
    finally:
        clock.shutdown(wait=False)


def test_an_invalid_cron_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "exports.toml"
    path.write_text('[jobs.export]\ncron = "every now and then"\n')
    with pytest.raises(ScheduleError, match="exports.toml"):
        load_schedule(path)
    path.write_text('[credentials.acmss-cmss]\ncron = "whenever"\n')
    with pytest.raises(ScheduleError, match=r"exports.toml: credentials.acmss-cmss.cron"):
        load_schedule(path)


def test_scheduler_process_exports_due_claims_and_stops_on_sigterm(
    client: FlaskClient, cli_json: Callable[..., Any], cli_env: dict[str, str], runtime: Runtime, tmp_path: Path
) -> None:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    import_mapping(cli_json, tmp_path, source="c", course="565", minutes=60, credentials=["acmss-cmss"])
    client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json"))
    log = tmp_path / "scheduler.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "lti_tool", "scheduler"],
                                   env={**os.environ, **cli_env}, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            deadline = time.monotonic() + 30
            exports = runtime.settings.exports_dir / "acmss-cmss"
            while time.monotonic() < deadline and not list(exports.glob("*.csv")):
                time.sleep(0.2)
            assert list(exports.glob("*.csv")), log.read_text()
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0, log.read_text()


def test_reconcile_runs_on_its_own_thread_so_exports_never_wait_for_it(runtime: Runtime) -> None:
    clock = build_scheduler(runtime, BackgroundScheduler)
    clock.start(paused=True)
    try:
        jobs = {job.id: job for job in clock.get_jobs()}
        assert jobs["reconcile"].executor == "reconcile"
        assert jobs["export"].executor == "default"
    finally:
        clock.shutdown(wait=False)


def test_a_reconcile_tick_that_cannot_reach_the_database_does_not_raise(runtime: Runtime) -> None:
    from lti_tool.scheduler import reconcile_tick

    runtime.engine.dispose()
    broken = runtime.sessions.kw["bind"]
    runtime.sessions.configure(bind=broken.execution_options(schema_translate_map={None: "no_such_schema"}))
    reconcile_tick(runtime)  # logged, not raised


def test_scheduler_process_exports_while_an_lms_hangs_its_reconciliation(
    client: FlaskClient, cli_json: Callable[..., Any], cli_env: dict[str, str], runtime: Runtime, tmp_path: Path
) -> None:
    from tests.support.canvas_api import CanvasState, canvas_handler, progress_row
    from tests.support.loopback import serve

    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "c")
    import_mapping(cli_json, tmp_path, source="c", course="565", minutes=60, credentials=["acmss-cmss"])
    client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json"))
    # The LMS hangs longer than the reconciliation may wait (20 s): wide enough that a slow start of
    # the scheduler on a busy machine still writes the export while the reconciliation is waiting.
    state = CanvasState(tokens={"good"}, hang_seconds=40,
                        courses={"565": [progress_row(124, "Emmy Noether", "2026-11-02T15:00:00Z")]})
    log = tmp_path / "scheduler.log"
    with serve(canvas_handler(state)) as base, open(log, "wb") as out:
        cli_json("sources", "connect", "c", "--api-url", base, "--token-env", "CANVAS_TOKEN")
        env = {**os.environ, **cli_env, "CANVAS_TOKEN": "good", "LTI_TOOL_RECONCILE__DEADLINE_SECONDS": "20"}
        process = subprocess.Popen([sys.executable, "-m", "lti_tool", "scheduler"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, cwd=REPO)
        try:
            deadline = time.monotonic() + 30
            exports = runtime.settings.exports_dir / "acmss-cmss"
            # Either job may start first (on a loaded machine the export has been written before the
            # reconciliation's request left): wait for both, the export and the hanging request.
            while time.monotonic() < deadline and not (list(exports.glob("*.csv")) and state.most_in_flight):
                time.sleep(0.2)
            assert list(exports.glob("*.csv")), log.read_text()
            assert state.in_flight == 1  # the reconciliation is still waiting on the LMS
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=45) == 0, log.read_text()
            state.released.set()
    assert "timed out: no complete answer within 20 s" in log.read_text()
