"""``lti-tool mappings``: import and list course mappings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.mappings import MappingError, import_mappings, list_mappings, read_mapping_file


@click.group()
def mappings() -> None:
    """Course mappings: what completing a course earns."""


@mappings.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def import_(rt: Runtime, file: Path, as_json: bool) -> None:
    """Create or replace mappings from a TOML file, and credit completions already received."""
    try:
        specs = read_mapping_file(file)
        with write_session(rt.sessions) as session:
            result = import_mappings(session, specs, rt.rulebook)
    except (MappingError, UnknownCredential) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    emit(dataclasses.asdict(result), as_json)


@mappings.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def list_(rt: Runtime, as_json: bool) -> None:
    """List the course mappings."""
    with read_session(rt.sessions) as session:
        rows = list_mappings(session)
    emit(rows, as_json)
