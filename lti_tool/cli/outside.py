"""``lti-tool learners outside``: credit a learner earned outside the LMS, and its verification."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from lti_tool import models
from lti_tool.cli.activity_options import activity_from, activity_options
from lti_tool.cli.context import emit, pass_runtime, source_learner
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services import learners as learner_service
from lti_tool.services import outside_credit
from lti_tool.services.certificate_files import MAX_BYTES, CertificateRefused, store_certificate


@click.group()
def outside() -> None:
    """Credit earned outside the LMS (self-reported until verified; never exported as a claim)."""


def describe(row: models.OutsideCredit) -> dict[str, Any]:
    return {
        "id": row.id, "credential": row.credential, "title": row.title, "provider": row.provider,
        "date": row.activity_on.isoformat(), "minutes": row.minutes, "activity": row.activity.get("type"),
        "amount": str(row.amount), "unit": row.unit, "reason": row.reason, "status": row.status,
        "status_reason": row.status_reason, "certificate": row.certificate_type,
    }


def _day(_ctx: Any, _param: Any, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def contact_minutes(minutes: int | None, hours: Decimal | None) -> int:
    """Exactly one of minutes or hours; hours become whole minutes (rounded down: never more
    credit than the time stated)."""
    if (minutes is None) == (hours is None):
        raise click.UsageError("give the activity's time as --minutes or --hours (one of them)")
    if minutes is not None:
        return minutes
    assert hours is not None
    return int(hours * 60)


@outside.command("add")
@click.option("--source", "source_id", type=int, required=True)
@click.option("--user", required=True, help="The learner's LMS user id.")
@click.option("--credential", "credential_id", required=True)
@click.option("--title", required=True)
@click.option("--provider", required=True, help="Who offered the activity.")
@click.option("--date", "on", required=True, callback=_day, help="YYYY-MM-DD")
@click.option("--minutes", type=click.IntRange(min=1), help="Contact minutes.")
@activity_options
@click.option("--certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PDF, PNG or JPEG, at most 10 MB.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def add(rt: Runtime, source_id: int, user: str, credential_id: str, title: str, provider: str, on: date,
        minutes: int | None, facts: dict[str, Any], certificate: Path | None, as_json: bool) -> None:
    """Record an outside activity (its time as --minutes or --hours); the credential's plugin
    converts it."""
    activity = activity_from(contact_minutes(minutes, facts["hours"]), facts)
    try:
        stored = None
        if certificate is not None:
            if certificate.stat().st_size > MAX_BYTES:
                raise CertificateRefused(f"a certificate may be at most {MAX_BYTES // (1024 * 1024)} MB")
            stored = store_certificate(rt.settings.instance_dir, certificate.read_bytes())
        with write_session(rt.sessions) as session:
            learner = learner_service.find_learner(session, source_learner(session, source_id, user))
            if learner is None:
                raise learner_service.LearnerError(f"no learner {user!r} for source {source_id}")
            recorded = outside_credit.record_outside(
                session, rt.rulebook, learner_id=learner.id, credential=credential_id, title=title,
                provider=provider, on=on, activity=activity, certificate=stored, recorded_by="cli")
            result = {**describe(recorded.row), "new": recorded.new}
    except (learner_service.LearnerError, outside_credit.OutsideRefused, CertificateRefused,
            UnknownCredential) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    emit(result, as_json)


@outside.command("list")
@click.option("--status", type=click.Choice(models.OUTSIDE_STATES), help="Only these (e.g. self-reported).")
@click.option("--source", "source_id", type=int, help="With --user: one learner's.")
@click.option("--user")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def list_outside(rt: Runtime, status: str | None, source_id: int | None, user: str | None, as_json: bool) -> None:
    """Outside credit recorded, oldest first: what waits for verification, with --status self-reported."""
    if (source_id is None) != (user is None):
        raise click.UsageError("give --source and --user together")
    with read_session(rt.sessions) as session:
        learner_id = None
        if source_id is not None and user is not None:
            try:
                learner = learner_service.find_learner(session, source_learner(session, source_id, user))
            except learner_service.LearnerError as exc:
                raise click.UsageError(str(exc).strip("'\"")) from None
            learner_id = learner.id if learner else -1
        rows = outside_credit.list_outside(session, status=status, learner_id=learner_id)
        result = [describe(row) for row in rows]
    emit(result, as_json)


@outside.command("verify")
@click.argument("outside_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def verify(rt: Runtime, outside_id: int, as_json: bool) -> None:
    """Mark an outside activity verified (its certificate checked)."""
    _decide(rt, outside_id, True, None, as_json)


@outside.command("reject")
@click.argument("outside_id", type=int)
@click.option("--reason", required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def reject(rt: Runtime, outside_id: int, reason: str, as_json: bool) -> None:
    """Reject an outside activity: it no longer counts toward progress."""
    _decide(rt, outside_id, False, reason, as_json)


def _decide(rt: Runtime, outside_id: int, verified: bool, reason: str | None, as_json: bool) -> None:
    try:
        with write_session(rt.sessions) as session:
            result = describe(outside_credit.decide(session, outside_id, verified=verified, reason=reason))
    except (outside_credit.OutsideNotFound, outside_credit.OutsideRefused) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    emit(result, as_json)
