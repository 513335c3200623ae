"""``lti-tool reconcile``: ask the connected LMSs for completions the tool has not heard of."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.events.completion import BadEvent
from lti_tool.events.wire import as_utc
from lti_tool.runtime import Runtime
from lti_tool.services.reconciliation import reconcile as run_reconcile


@click.group()
def reconcile() -> None:
    """Reconciliation: pull completions from Canvas, Moodle and LRS APIs."""


@reconcile.command("run")
@click.option("--source", "source", metavar="NAME", help="Only this source (default: every connected source).")
@click.option("--course", metavar="ID", help="Only this mapped course.")
@click.option("--since", metavar="DATE", help="Only completions from this date or time (ISO 8601).")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def run(rt: Runtime, source: str | None, course: str | None, since: str | None, as_json: bool) -> None:
    """Reconcile now; print per source what was checked, found and credited, and any errors."""
    when: datetime | None = None
    if since:
        try:
            when = as_utc(since, "--since")
        except BadEvent as exc:
            raise click.UsageError(str(exc)) from None
        when = when.astimezone(UTC)
    reports = run_reconcile(rt.sessions, rt.rulebook, rt.settings.reconcile, source=source, course=course, since=when)
    emit([r.as_dict() for r in reports], as_json, lambda rows: "\n".join(
        f"{r['source']}: {r['courses']} course(s), {r['users_checked']} user(s) checked, "
        f"{r['completions_found']} completion(s) found, {r['credited']} credited, "
        f"{r['already_known']} already known" + "".join(f"\n  error: {e}" for e in r["errors"])
        for r in rows) or "no connected source")
    if any(r.errors for r in reports):
        raise SystemExit(1)
