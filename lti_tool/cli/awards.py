"""``lti-tool awards``: read the ledger and revoke an award with a reversing entry."""

from __future__ import annotations

import dataclasses

import click

from lti_tool.cli.context import emit, pass_runtime, source_identity
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.award_keys import rekey_all
from lti_tool.services.awards import list_awards
from lti_tool.services.ledger import AwardNotFound, revoke_award
from lti_tool.services.recompute import recompute


@click.group()
def awards() -> None:
    """Awards in the ledger."""


@awards.command("list")
@click.option("--source", "source_id", type=int)
@click.option("--user", help="The learner's LMS user id.")
@click.option("--course", help="The LMS course id.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def list_(rt: Runtime, source_id: int | None, user: str | None, course: str | None, as_json: bool) -> None:
    """List awards with credential, amount, unit, course, learner, completed-at and rule version."""
    with read_session(rt.sessions) as session:
        identity_id = source_identity(session, source_id) if source_id is not None else None
        rows = list_awards(session, identity_id=identity_id, user=user, course=course)
    emit(rows, as_json)


@awards.command("revoke")
@click.argument("award_id", type=int)
@click.option("--reason", required=True, help="Why: kept in the ledger and sent with the retraction.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def revoke(rt: Runtime, award_id: int, reason: str, as_json: bool) -> None:
    """Reverse an award (a reversing ledger entry; the award itself is never changed)."""
    try:
        with write_session(rt.sessions) as session:
            entry = revoke_award(session, award_id, reason)
            result = {"award_id": award_id, "revoked": entry is not None,
                      "entry_id": entry.id if entry else None,
                      "amount": str(entry.amount) if entry else None}
    except (AwardNotFound, ValueError) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    if entry is None and not as_json:
        click.echo(f"award {award_id} was revoked already")
        return
    emit(result, as_json)


@awards.command("recompute")
@click.option("--credential", help="Only awards of this credential.")
@click.option("--course", help="Only awards for this LMS course id.")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def recompute_(rt: Runtime, credential: str | None, course: str | None, dry_run: bool,
               as_json: bool) -> None:
    """Recompute standing awards with the current rules: reversal plus a new revision."""
    try:
        with write_session(rt.sessions) as session:
            report = recompute(session, rt.rulebook, credential=credential, course=course,
                               dry_run=dry_run)
    except UnknownCredential as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    emit(dataclasses.asdict(report), as_json)


@awards.command("rekey")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def rekey(rt: Runtime, as_json: bool) -> None:
    """Re-key every award's retake period with the configured rules (config/credit_rules.toml, the
    time zone); no amount, ledger entry or claim changes. Run once after changing a cycle setting."""
    with write_session(rt.sessions) as session:
        done = rekey_all(session, rt.rulebook)
    emit({"moved": done.moved, "kept": done.kept}, as_json)
