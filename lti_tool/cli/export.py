"""``lti-tool export``: run a tick now, see where claims stand, retry the dead letter, consent."""

from __future__ import annotations

import logging

import click

from lti_tool.cli.context import emit, pass_runtime, source_learner
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.claim_readiness import missing_for, set_consent
from lti_tool.services.export_retries import BatchNotFound, retry_batch
from lti_tool.services.export_status import export_status
from lti_tool.services.exporting import run_export_tick
from lti_tool.services.learners import find_learner

log = logging.getLogger(__name__)


@click.group()
def export() -> None:
    """Claims to the certifying bodies."""


@export.command("run")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def run(rt: Runtime, as_json: bool) -> None:
    """Run one export tick now (every credential) and print what it delivered."""
    report = run_export_tick(rt.sessions, rt.exports, rt.settings.exports)
    emit(report.as_dict(), as_json)
    if report.failed:
        raise SystemExit(1)


@export.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def status(rt: Runtime, as_json: bool) -> None:
    """Claims per destination: pending (waiting: for the learner), delivered, failed, dead, overdue."""
    with read_session(rt.sessions) as session:
        emit(export_status(session, rt.exports), as_json)


@export.command("retry")
@click.argument("batch_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def retry(rt: Runtime, batch_id: int, as_json: bool) -> None:
    """Put a dead (or failed) batch back in line; the next tick delivers it."""
    try:
        with write_session(rt.sessions) as session:
            result = retry_batch(session, batch_id)
        emit(result, as_json)
    except (BatchNotFound, ValueError) as exc:
        log.warning("export retry refused: %s", exc)
        raise click.UsageError(str(exc).strip("'\"")) from None


@export.command("consent")
@click.option("--source", "source_id", type=int, required=True)
@click.option("--user", required=True, help="The learner's LMS user id.")
@click.option("--credential", required=True)
@click.option("--withdraw", is_flag=True, help="Withdraw consent: claims wait again.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def consent(rt: Runtime, source_id: int, user: str, credential: str, withdraw: bool, as_json: bool) -> None:
    """Record a learner's consent to report their claims for CREDENTIAL (or withdraw it)."""
    if credential not in rt.rulebook:
        log.warning("export consent refused: unknown credential %r", credential)
        raise click.BadParameter(f"unknown credential {credential!r} (known: {', '.join(rt.rulebook.credentials)})",
                                 param_hint="--credential")
    with write_session(rt.sessions) as session:
        learner = find_learner(session, source_learner(session, source_id, user))
        if learner is None:
            log.warning("export consent refused: no learner %r in source %s", user, source_id)
            raise click.UsageError(f"no learner {user!r} in source {source_id}")
        set_consent(session, learner.id, credential, given=not withdraw)
        emit({"credential": credential, "consent": not withdraw,
              "missing": missing_for(session, learner.id, credential, rt.exports.requires(credential))},
             as_json)
