"""``python -m lti_tool`` is ``lti-tool``."""

from lti_tool.cli.main import cli

cli()
