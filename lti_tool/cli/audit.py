"""``lti-tool audit``: answer a certifying body's random audit."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import click

from lti_tool.cli.context import emit, pass_runtime, source_learner
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.audit_packet import LearnerNotFound, build_audit_packet
from lti_tool.services.day_range import CYCLE_LOOKAHEAD, BadDay, check_day
from lti_tool.services.verification import ensure_learner_codes

log = logging.getLogger(__name__)


@click.group()
def audit() -> None:
    """Audit packets for learners picked for a random audit."""


@audit.command("packet")
@click.option("--source", "source_id", type=int, required=True)
@click.option("--user", required=True, help="The learner's LMS user id.")
@click.option("--credential", required=True)
@click.option("--cycle", type=click.DateTime(["%Y-%m-%d"]), help="Cycle start (YYYY-MM-DD).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def packet(rt: Runtime, source_id: int, user: str, credential: str, cycle: object, output: Path,
           as_json: bool) -> None:
    """Write a ZIP: statement, certificates and the evidence behind every award.

    With --cycle, the awards completed in the renewal cycle that starts that day (as long as the
    credential's cycle); without, every award of the credential."""
    cycle_start: date | None = cycle.date() if isinstance(cycle, datetime) else None
    if cycle_start is not None:
        try:
            check_day(cycle_start, "the cycle start", ahead=CYCLE_LOOKAHEAD)
        except BadDay as exc:
            raise click.BadParameter(str(exc), param_hint="--cycle") from None
    try:
        rule = rt.rulebook.get(credential)
    except UnknownCredential as exc:
        log.warning("audit packet refused: %s", exc)
        raise click.BadParameter(str(exc), param_hint="--credential") from None
    months = getattr(rule.settings, "cycle_months", None)
    try:
        with write_session(rt.sessions) as session:
            key = source_learner(session, source_id, user)
            ensure_learner_codes(session, key, credential)
            result = build_audit_packet(session, key, credential, cycle_start,
                                        int(months) if months else None, rt.settings.lti.public_url or None,
                                        instance_dir=rt.settings.instance_dir)
    except LearnerNotFound as exc:
        log.warning("audit packet refused: %s", exc)
        raise click.UsageError(str(exc).strip("'\"")) from None
    try:
        output.write_bytes(result.content)
    except OSError as exc:
        log.warning("audit packet not written to %s: %s", output, exc)
        raise click.BadParameter(f"cannot write {output}: {exc.strerror or exc}", param_hint="-o") from None
    emit({"file": str(output), "files": result.files}, as_json,
         lambda d: f"wrote {d['file']} ({len(d['files'])} files)")
