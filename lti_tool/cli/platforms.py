"""``lti-tool platforms``: register LMS platforms (LTI 1.3) and list them."""

from __future__ import annotations

import dataclasses

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.db import read_session, write_session
from lti_tool.lti import platforms as service
from lti_tool.lti.platforms import ToolUrls
from lti_tool.runtime import Runtime


def tool_base_url(rt: Runtime) -> str:
    server = rt.settings.server
    return rt.settings.lti.public_url or f"http://{server.host}:{server.port}"


@click.group()
def platforms() -> None:
    """LMS platforms the tool is launched from (LTI 1.3)."""


@platforms.command("add")
@click.option("--issuer", required=True,
              help="The platform's issuer (Canvas: https://canvas.instructure.com).")
@click.option("--client-id", required=True, help="The client id the LMS gave the tool.")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True,
              help="A deployment id of the tool on this platform (repeatable).")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization URL.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token URL.")
@click.option("--key-set-url", required=True, help="The platform's public JWKS URL.")
@click.option("--name", help="A name for people.")
@click.option("--source", "source_name", metavar="SOURCE_NAME",
              help="The event source whose learner ids this platform's launches share.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def add(rt: Runtime, issuer: str, client_id: str, deployment_ids: tuple[str, ...], auth_login_url: str,
        auth_token_url: str, key_set_url: str, name: str | None, source_name: str | None,
        as_json: bool) -> None:
    """Register a platform and print the tool's URLs to paste into the LMS."""
    try:
        with write_session(rt.sessions) as session:
            platform = service.add_platform(
                session, issuer=issuer, client_id=client_id, deployment_ids=list(deployment_ids),
                auth_login_url=auth_login_url, auth_token_url=auth_token_url, key_set_url=key_set_url,
                name=name, source_name=source_name)
            described = service.describe(session, platform)
    except service.PlatformError as exc:
        raise click.UsageError(str(exc)) from None
    urls = dataclasses.asdict(ToolUrls.at(tool_base_url(rt)))
    emit({"platform": described, "tool": urls}, as_json,
         lambda d: "\n".join(f"{k}: {v}" for k, v in d["tool"].items()))


@platforms.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def list_(rt: Runtime, as_json: bool) -> None:
    """List the registered platforms, their deployments and linked event source."""
    with read_session(rt.sessions) as session:
        rows = service.list_platforms(session)
    emit(rows, as_json, lambda rs: "\n".join(
        f"{r['id']}\t{r['status']}\t{r['issuer']}\t{r['client_id']}\t{r['source'] or '-'}" for r in rs))


@platforms.command("approve")
@click.argument("platform_id", type=int)
@click.option("--source", "source_name", metavar="SOURCE_NAME",
              help="Link the event source whose learner ids the platform shares.")
@click.option("--deployment-id", "deployment_ids", multiple=True,
              help="A deployment id to accept launches from (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def approve(rt: Runtime, platform_id: int, source_name: str | None, deployment_ids: tuple[str, ...],
            as_json: bool) -> None:
    """Allow launches from a platform that registered itself (dynamic registration)."""
    try:
        with write_session(rt.sessions) as session:
            platform = service.approve(session, platform_id, source_name=source_name,
                                       deployment_ids=list(deployment_ids))
            described = service.describe(session, platform)
    except service.PlatformError as exc:
        raise click.UsageError(str(exc)) from None
    emit(described, as_json)


@platforms.command("add-deployment")
@click.argument("platform_id", type=int)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True,
              help="A deployment id of the tool on this platform (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def add_deployment(rt: Runtime, platform_id: int, deployment_ids: tuple[str, ...], as_json: bool) -> None:
    """Accept launches from another deployment (Canvas: each installation of the key has its own)."""
    try:
        with write_session(rt.sessions) as session:
            platform = service.get_platform(session, platform_id)
            service.add_deployments(session, platform, list(deployment_ids))
            described = service.describe(session, platform)
    except service.PlatformError as exc:
        raise click.UsageError(str(exc)) from None
    emit(described, as_json)
