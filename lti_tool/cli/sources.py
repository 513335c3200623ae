"""``lti-tool sources``: register and list event sources."""

from __future__ import annotations

import dataclasses

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services import connections
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


@sources.command("connect")
@click.argument("name")
@click.option("--api-url", required=True, help="The LMS's root URL, e.g. https://school.instructure.com "
                                               "(or the LRS's xAPI endpoint).")
@click.option("--token-env", metavar="VAR", help="Environment variable holding the API token "
                                                 "(xAPI: key:secret).")
@click.option("--token-file", type=click.Path(dir_okay=False),
              help="File holding the API token, outside any repository.")
@click.option("--client-id", help="Canvas: the developer key's client id (OAuth2 with a refresh token).")
@click.option("--client-secret-env", metavar="VAR",
              help="Canvas: environment variable with the developer key's secret.")
@click.option("--refresh-token-env", metavar="VAR", help="Canvas: environment variable with the refresh token.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def connect(rt: Runtime, name: str, api_url: str, token_env: str | None, token_file: str | None,
            client_id: str | None, client_secret_env: str | None, refresh_token_env: str | None,
            as_json: bool) -> None:
    """Give a source its LMS's API address and credentials, for reconciliation (secrets are read
    from the environment or a file at each call, never stored)."""
    credentials = connections.Credentials(token_env, token_file, client_id, client_secret_env, refresh_token_env)
    try:
        with write_session(rt.sessions) as session:
            connection = connections.connect_source(session, name, api_url, credentials)
            described = connections.describe_connection(session, connection)
    except service.SourceError as exc:
        raise click.UsageError(str(exc)) from None
    emit(described, as_json)
