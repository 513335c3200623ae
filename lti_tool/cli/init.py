"""``lti-tool init``: create or upgrade the database."""

from __future__ import annotations

import click

from lti_tool.cli.context import pass_runtime
from lti_tool.db import write_session
from lti_tool.lti.keys import ensure_key
from lti_tool.runtime import Runtime
from lti_tool.schema import upgrade


@click.command()
@pass_runtime
def init(rt: Runtime) -> None:
    """Create the database, or upgrade it to the newest schema."""
    upgrade(rt.engine, rulebook=rt.rulebook)
    with write_session(rt.sessions) as session:
        if ensure_key(session) is not None:
            click.echo("generated the tool's first LTI signing key")
    click.echo(f"database ready: {rt.engine.url.render_as_string(hide_password=True)}")
