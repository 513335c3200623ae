"""The scheduler is a clock: APScheduler in its own process, ticking jobs that read the database.

Each job is an idempotent tick that finds what is due in the database, so a missed, doubled or
crashed tick loses nothing: the next one does the work. The job store is in memory (the schedule
comes from ``config/exports.toml`` at every start); ``coalesce=True`` and ``misfire_grace_time=None``
turn any backlog of missed runs into one run. Web workers never run these jobs.
"""

from __future__ import annotations

import logging
import tomllib
from datetime import UTC, datetime
from collections.abc import Callable
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from lti_tool.runtime import Runtime
from lti_tool.services.exporting import run_export_tick
from lti_tool.services.ingestion import reprocess_failed

log = logging.getLogger(__name__)


class ScheduleError(ValueError):
    pass


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cron: str

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        CronTrigger.from_crontab(value, timezone="UTC")
        return value


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    export: Job = Job(cron="* * * * *")
    reprocess: Job = Job(cron="* * * * *")


def load_schedule(path: Path) -> Schedule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        return Schedule.model_validate(data.get("jobs", {}))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ScheduleError(f"{path}: {exc}") from None


def export_tick(rt: Runtime) -> None:
    report = run_export_tick(rt.sessions, rt.settings.exports_dir, rt.settings.exports)
    if report.delivered or report.failed:
        log.info("export tick: %d delivered, %d failed", len(report.delivered), len(report.failed))


def reprocess_tick(rt: Runtime) -> None:
    outcomes = reprocess_failed(rt.sessions, rt.rulebook)
    if outcomes:
        log.info("reprocess tick: %d event(s) processed", len(outcomes))


JOBS: dict[str, Callable[[Runtime], None]] = {"export": export_tick, "reprocess": reprocess_tick}


def build_scheduler(rt: Runtime, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    schedule = load_schedule(rt.settings.exports_file)
    scheduler = scheduler_class(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone="UTC",
    )
    for name, job in JOBS.items():
        cron = getattr(schedule, name).cron
        # First run at start: catching up on what became due while the clock was stopped.
        scheduler.add_job(job, CronTrigger.from_crontab(cron, timezone="UTC"), args=[rt], id=name,
                          name=name, next_run_time=datetime.now(UTC))
        log.info("scheduled %s: %s", name, cron)
    return scheduler
