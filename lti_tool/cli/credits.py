"""``lti-tool credits convert``: what a credential's rule gives for some contact time."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.credits import api
from lti_tool.credits.registry import UnknownCredential
from lti_tool.runtime import Runtime


@click.group()
def credits() -> None:
    """Convert contact time into credit."""


def _hours(_ctx: Any, _param: Any, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        hours = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number") from None
    if not hours.is_finite() or hours < 0:
        raise click.BadParameter(f"{value!r} is not a number of zero or more")
    return hours


@credits.command("convert")
@click.option("--credential", required=True, help="Credential id, e.g. acmss-cmss.")
@click.option("--minutes", type=click.IntRange(min=0), required=True, help="Contact minutes.")
@click.option("--activity", "activity_type", type=click.Choice(api.ACTIVITY_TYPES), default="education",
              show_default=True)
@click.option("--first-time/--repeat", default=True, help="Presentations and posters.")
@click.option("--category", help="AAMA administrative|clinical|general, PMI core, AAPC practice-management.")
@click.option("--sponsor", help='Who offered the program, e.g. "MGMA".')
@click.option("--live", is_flag=True, help="A live event.")
@click.option("--approved-by", "approved_by", multiple=True, help="A body that approved it (repeatable).")
@click.option("--index-number", help="The approving body's index number.")
@click.option("--pilot-minutes", type=click.IntRange(min=0), help="Distance learning: pilot-study estimate.")
@click.option("--offers-interaction", is_flag=True, help="Distance learning: interaction and feedback.")
@click.option("--structured", is_flag=True, help="Distance learning: a structured learning experience.")
@click.option("--hours", callback=_hours, help="Hours entered by an administrator (college, authorship).")
@click.option("--cpr-card", is_flag=True, help="The activity is a CPR card (AAMA).")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def convert(rt: Runtime, credential: str, minutes: int, activity_type: str, first_time: bool,
            category: str | None, sponsor: str | None, live: bool, approved_by: tuple[str, ...],
            index_number: str | None, pilot_minutes: int | None, offers_interaction: bool,
            structured: bool, hours: Decimal | None, cpr_card: bool, as_json: bool) -> None:
    """Print the credit one activity earns toward one credential."""
    try:
        rule = rt.rulebook.get(credential)
    except UnknownCredential as exc:
        raise click.UsageError(str(exc)) from None
    activity = api.Activity(
        minutes=minutes, type=activity_type, first_time=first_time, category=category, sponsor=sponsor,
        live=live, approved_by=frozenset(b.upper() for b in approved_by), index_number=index_number,
        pilot_minutes=pilot_minutes, offers_interaction=offers_interaction, structured=structured,
        hours=hours, cpr_card=cpr_card,
    )
    result = rule.convert(activity)
    award = result if isinstance(result, api.Award) else None
    refused = award is None
    data = {
        "credential": credential,
        "amount": str(award.amount) if award else "0",
        "unit": rule.unit,
        "refused": refused,
        "reason": result.reason,
        "index_number": award.index_number if award else None,
        "category": award.category if award else None,
        "rule_version": rule.rule_version,
    }
    emit(data, as_json, lambda d: (f"{credential}: refused: {d['reason']}" if refused
                                   else f"{credential}: {d['amount']} {d['unit']} ({d['reason']})"))
