"""``lti-tool reminders run``: the scheduler's reminders tick, by hand (or to see what it would send)."""

from __future__ import annotations

from datetime import date, datetime

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.runtime import Runtime
from lti_tool.services.reminders import ReminderReport, RemindersNotConfigured, run_reminders


@click.group()
def reminders() -> None:
    """Renewal reminder e-mails."""


@reminders.command("run")
@click.option("--dry-run", is_flag=True, help="List the reminders that would be made; send nothing.")
@click.option("--on", "on", help="The day to plan for (YYYY-MM-DD); default: today in the tool's time zone.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def run(rt: Runtime, dry_run: bool, on: str | None, as_json: bool) -> None:
    """Make the reminders due and send every pending one (each at most once, ever). Works whether or
    not ``reminders.enabled`` turns the scheduler's tick on."""
    try:
        day = date.fromisoformat(on) if on else datetime.now(rt.settings.zone).date()
    except ValueError:
        raise click.BadParameter(f"{on!r} is not a date (YYYY-MM-DD)", param_hint="--on") from None
    try:
        report = run_reminders(rt.sessions, rt.rulebook, rt.settings, rt.exports, on=day, dry_run=dry_run)
    except RemindersNotConfigured as exc:
        raise click.UsageError(str(exc)) from None
    emit(report.as_json(), as_json, _text)


def _text(data: dict[str, object]) -> str:
    report = ReminderReport(**data)  # type: ignore[arg-type]
    lines = [f"{'would send' if report.dry_run else 'new'}: {d['email']} {d['credential']} "
             f"(cycle ends {d['cycle_end']}, {d['offset_days']}-day reminder)" for d in report.due]
    lines += [f"sent: reminder {s['id']}" for s in report.sent]
    lines += [f"{f['status']}: reminder {f['id']}: {f.get('error', '')}" for f in report.failed]
    return "\n".join(lines) or "nothing due"
