"""``lti-tool serve`` and ``lti-tool scheduler``: the two long-running processes."""

from __future__ import annotations

import logging
import signal
from typing import Any

import click

from lti_tool.cli.context import pass_runtime
from lti_tool.runtime import Runtime

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", help="Overrides server.host.")
@click.option("--port", type=int, help="Overrides server.port.")
@pass_runtime
def serve(rt: Runtime, host: str | None, port: int | None) -> None:
    """Run the web app under gunicorn."""
    from lti_tool.server import GunicornServer

    public_url = rt.settings.lti.public_url
    if not rt.settings.server.development and not public_url.startswith("https://"):
        raise click.UsageError(
            "lti.public_url (LTI_TOOL_LTI__PUBLIC_URL) must be the tool's https:// URL as the LMS "
            "sees it: without it the Host header of each request decides the tool's URLs. "
            "On a developer's machine only: server.development = true.")
    settings = rt.settings.model_copy(deep=True)
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    rt.engine.dispose()  # workers open their own connections after the fork
    GunicornServer(settings).run()


@click.command()
@pass_runtime
def scheduler(rt: Runtime) -> None:
    """Run the clock: export and reprocess ticks on the schedule of config/exports.toml."""
    from lti_tool.scheduler import ScheduleError, build_scheduler

    try:
        clock = build_scheduler(rt)
    except ScheduleError as exc:
        raise click.UsageError(str(exc)) from None

    def stop(signum: int, _frame: Any) -> None:
        log.info("scheduler stopping (signal %s)", signum)
        clock.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("scheduler started")
    try:
        clock.start()
    except KeyboardInterrupt:
        pass
