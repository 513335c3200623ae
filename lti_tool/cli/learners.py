"""``lti-tool learners``: the credentials learners hold and their progress toward renewal."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from lti_tool.cli.context import emit, pass_runtime, source_learner
from lti_tool.cli.outside import outside
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services import learners as service
from lti_tool.services import renewal_items


@click.group()
def learners() -> None:
    """Learners and their credentials."""


learners.add_command(outside)


@learners.group()
def credential() -> None:
    """Credentials a learner holds."""


def _date(_ctx: Any, _param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@credential.command("add")
@click.option("--source", "source_id", type=int, required=True)
@click.option("--user", required=True, help="The learner's LMS user id.")
@click.option("--credential", "credential_id", required=True)
@click.option("--number", help="Member or licence number the body's claims need.")
@click.option("--certified-on", callback=_date, help="YYYY-MM-DD")
@click.option("--cycle-start", callback=_date, help="YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def add(rt: Runtime, source_id: int, user: str, credential_id: str, number: str | None,
        certified_on: date | None, cycle_start: date | None, as_json: bool) -> None:
    """Record that a learner holds a credential."""
    try:
        with write_session(rt.sessions) as session:
            holding = service.add_credential(
                session, rt.rulebook, key=source_learner(session, source_id, user), credential=credential_id,
                number=number, certified_on=certified_on, cycle_start=cycle_start)
            result = {"id": holding.id, "credential": holding.credential, "number": holding.number,
                      "certified_on": holding.certified_on, "cycle_start": holding.cycle_start}
    except (service.LearnerError, UnknownCredential) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    emit(result, as_json)


@learners.command("progress")
@click.option("--source", "source_id", type=int, required=True)
@click.option("--user", required=True)
@click.option("--on", "on", callback=_date, help="The day to measure on (default: today).")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def progress(rt: Runtime, source_id: int, user: str, on: date | None, as_json: bool) -> None:
    """Progress toward renewal for each credential the learner holds (today: in the configured
    time_zone)."""
    try:
        with read_session(rt.sessions) as session:
            results = service.progress(session, rt.rulebook, key=source_learner(session, source_id, user),
                                       on=on or datetime.now(rt.settings.zone).date(),
                                       zone=rt.settings.zone)
    except (service.LearnerError, UnknownCredential) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    emit([_plain(dataclasses.asdict(r)) for r in results], as_json)


def _amount(_ctx: Any, _param: Any, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise click.BadParameter(f"{value!r} is not a number above 0")
    return amount


@learners.command("confirm")
@click.option("--source", "source_id", type=int, required=True)
@click.option("--user", required=True, help="The learner's LMS user id.")
@click.option("--credential", "credential_id", required=True)
@click.option("--item", "item_id", required=True, help="The renewal item's id (see learners progress).")
@click.option("--on", "on", callback=_date, help="The day it was met, YYYY-MM-DD (default: today).")
@click.option("--amount", callback=_amount, help="Hours, for an item measured in hours (volunteer service).")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def confirm(rt: Runtime, source_id: int, user: str, credential_id: str, item_id: str, on: date | None,
            amount: Decimal | None, as_json: bool) -> None:
    """Record a renewal item that is not credit (a fee paid, a membership, volunteer hours)."""
    try:
        with write_session(rt.sessions) as session:
            done = renewal_items.confirm_for_user(
                session, rt.rulebook, key=source_learner(session, source_id, user), credential=credential_id,
                item_id=item_id,
                on=on or datetime.now(rt.settings.zone).date(), amount=amount)
    except (service.LearnerError, renewal_items.ItemError, UnknownCredential) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    emit(_plain(dataclasses.asdict(done)), as_json)


def _plain(value: Any) -> Any:
    """Decimals as strings ("1.5"), dates as ISO text: exact, and readable by any JSON client."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
