"""``lti-tool``: the command line of the tool."""

from __future__ import annotations

import click

from lti_tool.cli.audit import audit
from lti_tool.cli.awards import awards
from lti_tool.cli.clean_input import refuse_unclean_text
from lti_tool.cli.completions import completions
from lti_tool.cli.credits import credits
from lti_tool.cli.events import events
from lti_tool.cli.export import export
from lti_tool.cli.init import init
from lti_tool.cli.keys import keys
from lti_tool.cli.learners import learners
from lti_tool.cli.mappings import mappings
from lti_tool.cli.platforms import platforms
from lti_tool.cli.plugins import plugins
from lti_tool.cli.processes import scheduler, serve
from lti_tool.cli.reconcile import reconcile
from lti_tool.cli.reminders import reminders
from lti_tool.cli.sources import sources
from lti_tool.cli.transcripts import transcript
from lti_tool.cli.verify import verify


@click.group()
@click.version_option(package_name="lti-tool")
def cli() -> None:
    """Turn LMS course completions into continuing-education credit."""


for command in (init, sources, mappings, credits, plugins, awards, learners, export, serve, scheduler,
                platforms, keys, audit, reminders, verify, events, reconcile, completions):
    cli.add_command(command)
learners.add_command(transcript)
refuse_unclean_text(cli)
