"""The reminders tick on the scheduler's clock, and ``lti-tool reminders run``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import Result
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.scheduler import ScheduleError, build_scheduler, reminders_tick
from tests.exports.receivers import SmtpReceiver, smtp_server
from tests.lifecycle.test_reminders import holder


def test_reminders_on_adds_the_reminders_job_with_its_cron(runtime: Runtime) -> None:
    clock = build_scheduler(runtime, BackgroundScheduler)
    clock.start(paused=True)
    try:
        jobs = {job.id: job for job in clock.get_jobs()}
        assert "reminders" in jobs and str(jobs["reminders"].trigger).startswith("cron[")
    finally:
        clock.shutdown(wait=False)


def test_reminders_off_schedules_no_reminders_job(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={
        "reminders": runtime.settings.reminders.model_copy(update={"enabled": False})})
    clock = build_scheduler(runtime, BackgroundScheduler)
    clock.start(paused=True)
    try:
        assert "reminders" not in {job.id for job in clock.get_jobs()}
    finally:
        clock.shutdown(wait=False)


def test_reminders_on_without_an_smtp_destination_stops_the_scheduler_at_start(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={
        "reminders": runtime.settings.reminders.model_copy(update={"destination": "directory"})})
    with pytest.raises(ScheduleError, match="not an smtp destination"):
        build_scheduler(runtime, BackgroundScheduler)


def test_the_tick_sends_what_is_due_today_once(runtime: Runtime, mail_port: int) -> None:
    """Certified 350 days ago: the yearly ACMSS cycle ends in 14 days, inside the 30-day offset."""
    learner_id = holder(runtime, earned=None)
    with write_session(runtime.sessions) as session:
        holding = session.scalars(select(models.LearnerCredential).where(
            models.LearnerCredential.learner_id == learner_id)).one()
        holding.certified_on = datetime.now(runtime.settings.zone).date() - timedelta(days=350)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        reminders_tick(runtime)
        reminders_tick(runtime)
    [message] = receiver.messages
    assert message["To"] == "dana@example.org" and "14 day(s)" in message["Subject"]


def test_the_cli_dry_run_lists_and_the_run_sends(
    runtime: Runtime, cli: Callable[..., Result], cli_env: dict[str, str], mail_port: int, settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder(runtime)
    env = {"LTI_TOOL_LTI__PUBLIC_URL": settings.lti.public_url, "LTI_TOOL_REMINDERS__ENABLED": "true",
           "LTI_TOOL_REMINDERS__DESTINATION": "reminder-mail"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        dry = json.loads(cli("reminders", "run", "--dry-run", "--on", "2026-06-01", "--json").output)
        assert receiver.messages == []
        sent = json.loads(cli("reminders", "run", "--on", "2026-06-01", "--json").output)
    assert dry["dry_run"] is True and [d["offset_days"] for d in dry["due"]] == [30]
    assert len(sent["sent"]) == 1 and len(receiver.messages) == 1


def test_the_cli_refuses_a_bad_day(cli: Callable[..., Result]) -> None:
    result = cli("reminders", "run", "--on", "June", "--json", expect=2)
    assert "not a date" in result.output
