"""The activity-fact options ``credits convert`` and ``learners outside add`` share, and the
:class:`~lti_tool.credits.api.Activity` they describe."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from lti_tool.credits import api


def hours_option(_ctx: Any, _param: Any, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        hours = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number") from None
    if not hours.is_finite() or hours < 0:
        raise click.BadParameter(f"{value!r} is not a number of zero or more")
    return hours


_OPTIONS = (
    click.option("--activity", "activity_type", type=click.Choice(api.ACTIVITY_TYPES), default="education",
                 show_default=True),
    click.option("--first-time/--repeat", default=True, help="Presentations and posters."),
    click.option("--category", help="AAMA administrative|clinical|general, PMI core, AAPC practice-management."),
    click.option("--sponsor", help='Who offered the program, e.g. "MGMA".'),
    click.option("--live", is_flag=True, help="A live event."),
    click.option("--approved-by", "approved_by", multiple=True, help="A body that approved it (repeatable)."),
    click.option("--index-number", help="The approving body's index number."),
    click.option("--pilot-minutes", type=click.IntRange(min=0), help="Distance learning: pilot-study estimate."),
    click.option("--offers-interaction", is_flag=True, help="Distance learning: interaction and feedback."),
    click.option("--structured", is_flag=True, help="Distance learning: a structured learning experience."),
    click.option("--hours", callback=hours_option,
                 help="Hours entered by an administrator (college, authorship)."),
    click.option("--cpr-card", is_flag=True, help="The activity is a CPR card (AAMA)."),
    click.option("--own-minutes", type=click.IntRange(min=0),
                 help="Presentations: a co-presenter's or panelist's own portion, in minutes."),
    click.option("--staffed-minutes", type=click.IntRange(min=0), help="Posters: the minutes its author staffed it."),
)
FACT_PARAMETERS = ("activity_type", "first_time", "category", "sponsor", "live", "approved_by", "index_number",
                   "pilot_minutes", "offers_interaction", "structured", "hours", "cpr_card", "own_minutes",
                   "staffed_minutes")


def activity_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the fact options to a command; it receives them as one ``facts`` dict."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        facts = {name: kwargs.pop(name) for name in FACT_PARAMETERS}
        return func(*args, facts=facts, **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def activity_from(minutes: int, facts: dict[str, Any]) -> api.Activity:
    values = dict(facts)
    kind = values.pop("activity_type")
    values["approved_by"] = frozenset(b.upper() for b in values.get("approved_by") or ())
    return api.Activity(minutes=minutes, type=kind, **values)
