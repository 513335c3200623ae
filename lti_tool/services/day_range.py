"""The days a person may give the tool: a certification, a cycle start, an outside activity, a
confirmation, a cycle to look up. A day of year 1 or 9999 is a typing error no one could mean, and a
cycle reckoned from it runs past what a date holds (a 500 on every page that shows it)."""

from __future__ import annotations

from datetime import date, timedelta

EARLIEST = date(1950, 1, 1)
CYCLE_LOOKAHEAD = timedelta(days=3660)
"""How far ahead a day naming a cycle (a transcript's, an audit packet's) may lie: ten years."""


class BadDay(ValueError):
    """A day outside the range (refused with a 400 or a usage error)."""


def check_day(day: date, what: str, *, today: date | None = None, ahead: timedelta = timedelta(days=1)) -> None:
    """``day`` lies between 1950 and ``ahead`` after today (tomorrow by default), else :class:`BadDay`."""
    latest = (today or date.today()) + ahead
    if not EARLIEST <= day <= latest:
        # Tomorrow is allowed only for the time zones ahead of the server's: "today" to a person.
        until = "today" if ahead <= timedelta(days=1) else str(latest)
        raise BadDay(f"{what} {day} is not between {EARLIEST} and {until}")
