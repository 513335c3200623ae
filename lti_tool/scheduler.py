"""The scheduler is a clock: APScheduler in its own process, ticking jobs that read the database.

Each job is an idempotent tick that finds what is due in the database, so a missed, doubled or
crashed tick loses nothing: the next one does the work. The job store is in memory (the schedule
comes from ``config/exports.toml`` at every start); ``coalesce=True`` and ``misfire_grace_time=None``
turn any backlog of missed runs into one run. Web workers never run these jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from lti_tool.exports.config import ExportConfig, ExportConfigError, load_export_config
from lti_tool.runtime import Runtime
from lti_tool.services.exporting import run_export_tick
from lti_tool.services.ingestion import reprocess_failed
from lti_tool.services.reconciliation import reconcile
from lti_tool.services.reminders import RemindersNotConfigured, mail_destination, run_reminders

log = logging.getLogger(__name__)


class ScheduleError(ValueError):
    pass


def load_schedule(path: Path) -> ExportConfig:
    """The jobs (``[jobs.*]``) and per-credential crons of ``config/exports.toml``."""
    try:
        return load_export_config(path)
    except ExportConfigError as exc:
        raise ScheduleError(str(exc)) from None


def own_schedules(config: ExportConfig) -> dict[str, str]:
    """Credentials with their own cron: the general export job leaves them out."""
    return {c: b.cron for c, b in config.credentials.items() if b.cron}


def export_tick(rt: Runtime) -> None:
    report = run_export_tick(rt.sessions, rt.exports, rt.settings.exports,
                             exclude=set(own_schedules(rt.exports.config)))
    if report.delivered or report.failed:
        log.info("export tick: %d delivered, %d failed", len(report.delivered), len(report.failed))


def credential_export_tick(rt: Runtime, credential: str) -> None:
    report = run_export_tick(rt.sessions, rt.exports, rt.settings.exports, credentials={credential})
    if report.delivered or report.failed:
        log.info("export tick %s: %d delivered, %d failed", credential, len(report.delivered),
                 len(report.failed))


def reprocess_tick(rt: Runtime) -> None:
    outcomes = reprocess_failed(rt.sessions, rt.rulebook)
    if outcomes:
        log.info("reprocess tick: %d event(s) processed", len(outcomes))


def reminders_tick(rt: Runtime) -> None:
    """Renewal reminders due today (in the tool's time zone), and pending ones retried."""
    report = run_reminders(rt.sessions, rt.rulebook, rt.settings, rt.exports,
                           on=datetime.now(rt.settings.zone).date())
    if report.due or report.sent or report.failed:
        log.info("reminders tick: %d new, %d sent, %d failed", len(report.due), len(report.sent),
                 len(report.failed))


def reconcile_tick(rt: Runtime, requested_only: bool = False) -> None:
    """Ask every connected LMS for completions; an LMS that is down is reported, never raised."""
    try:
        reports = reconcile(rt.sessions, rt.rulebook, rt.settings.reconcile, requested_only=requested_only)
    except Exception:  # noqa: BLE001 - e.g. the database is away: the next tick tries again
        log.exception("reconcile tick failed")
        return
    for report in reports:
        if report.credited or report.errors:
            log.info("reconcile tick %s: %d found, %d credited, errors: %s", report.source,
                     report.completions_found, report.credited, report.errors)


def reconcile_requests_tick(rt: Runtime) -> None:
    """"Reconcile now", asked on the administrator's page."""
    reconcile_tick(rt, requested_only=True)


JOBS: dict[str, Callable[[Runtime], None]] = {"export": export_tick, "reprocess": reprocess_tick,
                                               "reconcile": reconcile_tick,
                                               "reconcile_requests": reconcile_requests_tick}
EXECUTORS = {"reconcile": "reconcile", "reconcile_requests": "reconcile"}
"""Reconciliation waits on LMSs for minutes at worst: it runs on its own thread, so exports never wait for it."""


def build_scheduler(rt: Runtime, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    schedule = load_schedule(rt.settings.exports_file)
    jobs: list[tuple[str, str, Callable[..., None], list[object]]] = [
        (name, getattr(schedule.jobs, name).cron, job, [rt]) for name, job in JOBS.items()]
    if rt.settings.reminders.enabled:
        try:
            mail_destination(rt.settings, rt.exports)
        except RemindersNotConfigured as exc:
            raise ScheduleError(str(exc)) from None
        jobs.append(("reminders", schedule.jobs.reminders.cron, reminders_tick, [rt]))
    jobs += [(f"export:{credential}", cron, credential_export_tick, [rt, credential])
             for credential, cron in sorted(own_schedules(schedule).items())]
    scheduler = scheduler_class(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=2), "reconcile": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone="UTC",
    )
    for name, cron, job, args in jobs:
        # First run at start: catching up on what became due while the clock was stopped.
        scheduler.add_job(job, CronTrigger.from_crontab(cron, timezone="UTC"), args=args, id=name,
                          name=name, next_run_time=datetime.now(UTC), executor=EXECUTORS.get(name, "default"))
        log.info("scheduled %s: %s", name, cron)
    return scheduler
