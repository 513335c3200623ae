"""``lti-tool sources``: register and list event sources."""

from __future__ import annotations

import dataclasses

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services import sources as service


@click.group()
def sources() -> None:
    """Event sources: the LMSs that post completion events."""


@sources.command("add")
@click.option("--kind", type=click.Choice(service.KINDS), required=True)
@click.option("--name", required=True)
@click.option("--jwks-url", help="Canvas: the JWKS URL that signs its Live Events (signed form).")
@click.option("--same-identities-as", metavar="NAME",
              help="Another source of the same LMS: learners and courses are shared, so a completion "
                   "reported by both is credited once.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def add(rt: Runtime, kind: str, name: str, jwks_url: str | None, same_identities_as: str | None,
        as_json: bool) -> None:
    """Register a source and print its event URL and secret (shown only now)."""
    try:
        with write_session(rt.sessions) as session:
            created = service.add_source(session, kind=kind, name=name, jwks_url=jwks_url,
                                         same_identities_as=same_identities_as)
    except service.SourceError as exc:
        raise click.UsageError(str(exc)) from None
    emit(dataclasses.asdict(created), as_json)


@sources.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def list_(rt: Runtime, as_json: bool) -> None:
    """List the registered sources (their tokens and secrets are not stored in clear)."""
    with read_session(rt.sessions) as session:
        rows = [service.describe(s) for s in service.list_sources(session)]
    emit(rows, as_json, lambda rs: "\n".join(f"{r['id']}\t{r['kind']}\t{r['name']}" for r in rs))
