"""``lti-tool events``: stored LMS events that could not be processed."""

from __future__ import annotations

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.ingestion import parked_events, unpark


@click.group()
def events() -> None:
    """Events whose processing keeps failing."""


@events.command("parked")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def parked(rt: Runtime, as_json: bool) -> None:
    """Events parked after repeated failed attempts (10), with their last error."""
    with read_session(rt.sessions) as session:
        rows = parked_events(session)
    emit(rows, as_json, lambda rs: "\n".join(
        f"event {r['id']} (source {r['source_id']}, received {r['received_at']}, {r['attempts']} attempts): "
        f"{r['error']}" for r in rs) or "no parked events")


@events.command("retry")
@click.argument("event_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def retry(rt: Runtime, event_id: int, as_json: bool) -> None:
    """Put a parked event back in line for the next reprocess tick."""
    with write_session(rt.sessions) as session:
        if not unpark(session, event_id):
            raise click.UsageError(f"event {event_id} is not parked")
    emit({"event": event_id, "status": "failed"}, as_json, lambda d: f"event {d['event']} will be retried")
