"""``lti-tool learners transcript``: a learner's transcript for one credential and cycle, PDF or CSV."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from lti_tool.cli.context import pass_runtime, source_learner
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import read_session
from lti_tool.exports.transcript import transcript_csv, transcript_pdf
from lti_tool.runtime import Runtime
from lti_tool.services.day_range import CYCLE_LOOKAHEAD, BadDay, check_day
from lti_tool.services.learners import LearnerError
from lti_tool.services.transcripts import TranscriptUnavailable, build_transcript


@click.command("transcript")
@click.option("--source", "source_id", type=int, required=True)
@click.option("--user", required=True, help="The learner's LMS user id.")
@click.option("--credential", "credential_id", required=True)
@click.option("--cycle", help="A day of the cycle (YYYY-MM-DD); default: the current cycle.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write: .pdf or .csv.")
@pass_runtime
def transcript(rt: Runtime, source_id: int, user: str, credential_id: str, cycle: str | None,
               output: Path) -> None:
    """Every award of the cycle, the totals per requirement and the non-credit items."""
    if output.suffix.lower() not in (".pdf", ".csv"):
        raise click.BadParameter("the file must end in .pdf or .csv", param_hint="-o")
    try:
        cycle_on = date.fromisoformat(cycle) if cycle else None
    except ValueError:
        raise click.BadParameter(f"{cycle!r} is not a date (YYYY-MM-DD)", param_hint="--cycle") from None
    try:
        if cycle_on is not None:
            check_day(cycle_on, "the cycle", ahead=CYCLE_LOOKAHEAD)
    except BadDay as exc:
        raise click.BadParameter(str(exc), param_hint="--cycle") from None
    try:
        with read_session(rt.sessions) as session:
            made = build_transcript(session, rt.rulebook, key=source_learner(session, source_id, user),
                                    credential=credential_id,
                                    cycle_on=cycle_on, today=datetime.now(rt.settings.zone).date(),
                                    zone=rt.settings.zone)
    except (UnknownCredential, TranscriptUnavailable, LearnerError) as exc:
        raise click.UsageError(str(exc)) from None
    content = transcript_pdf(made, rt.settings.certificates.issuer_name) if output.suffix.lower() == ".pdf" \
        else transcript_csv(made)
    output.write_bytes(content)
    click.echo(f"{output}: {len(made.lines)} award(s), {made.earned} of {made.required} {made.unit} ({made.cycle})")
