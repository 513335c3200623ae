"""Renewal cycles: fixed calendar cycles shared by all members, or cycles that run from a learner's
certification date, and the months arithmetic both need."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from lti_tool.credits.facts import Cycle, Holding


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; the 31st of a shorter month becomes its last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle_containing(anchor: date, months: int, on: date, *, before_anchor: bool = False) -> tuple[date, date]:
    """The cycle of ``months`` months, counted from ``anchor``, that contains ``on``.

    An anniversary on a day the month lacks (29 February, the 31st) falls on the month's last day.
    Days before the anchor fall in the first cycle (a learner measured before certifying), unless
    ``before_anchor``: a calendar cycle shared by all members also runs backwards.
    """
    elapsed = (on.year - anchor.year) * 12 + (on.month - anchor.month)
    k = elapsed // months if before_anchor else max(0, elapsed // months)
    start = add_months(anchor, k * months)
    if start > on and (k > 0 or before_anchor):
        k -= 1
        start = add_months(anchor, k * months)
    end = add_months(anchor, (k + 1) * months) - timedelta(days=1)
    return start, end


def fixed_cycle(first_start: date, months: int, on: date) -> Cycle:
    """A calendar cycle shared by every member (ACMPE: 2022-01-01 to 2024-12-31, then every three
    years; PMI: each calendar year)."""
    start, end = cycle_containing(first_start, months, on, before_anchor=True)
    return Cycle(start=start, end=end, counts_from=start)


def prorated_cycle(first_start: date, months: int, holding: Holding, on: date) -> Cycle:
    """A fixed cycle in which someone certified after its start owes a prorated share.

    The share is the whole calendar months left from the certification day, over the cycle's
    months: the months after the certification month, and that month too when certified on its
    1st (a month begun as a member is a whole month as one). Credit counts from the certification day.
    """
    cycle = fixed_cycle(first_start, months, on)
    certified = holding.certified_on
    if certified is None or certified <= cycle.start or certified > cycle.end:
        return cycle
    left = (cycle.end.year - certified.year) * 12 + (cycle.end.month - certified.month)
    if certified.day == 1:
        left += 1
    return Cycle(
        start=cycle.start, end=cycle.end, counts_from=certified, months_due=left, months=months,
        note=f"certified {certified.isoformat()}, inside the cycle: {left} of {months} months due",
    )


def anniversary_cycle(months: int, holding: Holding, on: date) -> Cycle | None:
    """A cycle that runs from the learner's certification date (or the recorded cycle start);
    ``None`` while neither is recorded (a made-up start would move and drop credit)."""
    anchor = holding.cycle_start or holding.certified_on
    if anchor is None:
        return None
    start, end = cycle_containing(anchor, months, on)
    return Cycle(start=start, end=end, counts_from=start)


def half_year_of(start: date, day: date) -> int:
    """Which half-year of a cycle that begins on ``start`` contains ``day``: 1 for the first six
    months (``start`` included), 2 for the next six, and so on."""
    elapsed = (day.year - start.year) * 12 + (day.month - start.month)
    if day.day < start.day:
        elapsed -= 1
    return elapsed // 6 + 1


def scheduled_cycle(first_start: date, months: int, holding: Holding, on: date,
                    schedule: dict[int, tuple[tuple[str, Decimal], ...]]) -> Cycle:
    """A fixed cycle in which someone certified after its start owes what a published schedule
    says for the half-year they were certified in (MGMA's proration schedule); credit counts
    from the certification day. ``schedule`` maps a half-year (1, 2, …) to the amount due of
    each requirement; a half-year it lacks owes the last one it names."""
    cycle = fixed_cycle(first_start, months, on)
    certified = holding.certified_on
    if certified is None or certified <= cycle.start or certified > cycle.end or not schedule:
        return cycle
    half = min(half_year_of(cycle.start, certified), max(schedule))
    due = schedule[half]
    total = dict(due).get("total")
    owed = f": {total} due" if total is not None else ""
    return Cycle(
        start=cycle.start, end=cycle.end, counts_from=certified, months=months, due=due,
        note=f"certified {certified.isoformat()}, in half-year {half} of the cycle{owed} "
             "(the body's proration schedule)",
    )
