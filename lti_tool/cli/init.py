"""``lti-tool init``: create or upgrade the database."""

from __future__ import annotations

import click

from lti_tool.cli.context import pass_runtime
from lti_tool.runtime import Runtime
from lti_tool.schema import upgrade


@click.command()
@pass_runtime
def init(rt: Runtime) -> None:
    """Create the database, or upgrade it to the newest schema."""
    upgrade(rt.engine)
    click.echo(f"database ready: {rt.engine.url.render_as_string(hide_password=True)}")
