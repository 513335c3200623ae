"""``lti-tool verify FILE``: check a signed Open Badges 3.0 credential (a ``.jwt`` file)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.jwks import JwksCache
from lti_tool.models import utcnow
from lti_tool.runtime import Runtime
from lti_tool.services.badge_signer import issuer_base
from lti_tool.services.badge_verification import Verdict, verify_credential


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jwks", "jwks_url", help="The issuer's JWKS; default: this tool's /.well-known/jwks.json.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def verify(rt: Runtime, file: Path, jwks_url: str | None, as_json: bool) -> None:
    """Check the credential's signature against the JWKS, its issuer, its dates and its revocation
    status (over HTTP, as any verifier would). Exit status 0: verified; 1: refused."""
    token = file.read_text(encoding="utf-8", errors="replace").strip()
    jwks_url = jwks_url or f"{issuer_base(rt.settings)}/.well-known/jwks.json"
    if token.startswith("{"):
        verdict = Verdict(verified=False, checks={"signature": "a JSON document carries no signature: "
                                                  "verify the .jwt file of the credential"})
    else:
        keys = JwksCache(timeout=rt.settings.lti.http_timeout_seconds, min_refetch_interval=0)
        verdict = verify_credential(token, jwks_url=jwks_url, keys=keys, now=utcnow())
    emit(verdict.as_json(), as_json, _text)
    sys.exit(0 if verdict.verified else 1)


def _text(data: dict[str, object]) -> str:
    checks = data["checks"]
    assert isinstance(checks, dict)
    lines = [("VERIFIED" if data["verified"] else "REFUSED") + f": {data.get('name') or data.get('id') or ''}"]
    lines += [f"  {check}: {result}" for check, result in checks.items()]
    return "\n".join(lines)
