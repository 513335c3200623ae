"""``lti-tool keys``: the tool's signing keys."""

from __future__ import annotations

from datetime import timedelta

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.db import read_session, write_session
from lti_tool.lti import keys as service
from lti_tool.runtime import Runtime


@click.group()
def keys() -> None:
    """The tool's RSA keys, published at /.well-known/jwks.json."""


@keys.command("rotate")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def rotate(rt: Runtime, as_json: bool) -> None:
    """Publish a new key now; it signs after lti.key_publish_ahead_seconds, and the keys it replaces
    stay published for lti.key_grace_seconds after that."""
    lti = rt.settings.lti
    with write_session(rt.sessions) as session:
        key = service.rotate(session, publish_ahead=timedelta(seconds=lti.key_publish_ahead_seconds),
                             grace=timedelta(seconds=lti.key_grace_seconds))
        result = {"kid": key.kid, "activates_at": key.activates_at.isoformat()}
    emit(result, as_json, lambda r: f"new key {r['kid']} signs from {r['activates_at']}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def list_(rt: Runtime, as_json: bool) -> None:
    """The published keys: kid, when each signs from, when it is retired."""
    with read_session(rt.sessions) as session:
        rows = [{"kid": k.kid, "created_at": k.created_at.isoformat(),
                 "activates_at": k.activates_at.isoformat(),
                 "retired_at": k.retired_at.isoformat() if k.retired_at else None}
                for k in service.published(session)]
    emit(rows, as_json, lambda rs: "\n".join(
        f"{r['kid']}\t{r['activates_at']}\t{r['retired_at'] or '-'}" for r in rs))
