"""Days given for something that has happened: a certification, a fee paid, an outside activity.

Such a day lies between 1950 and tomorrow (a day's grace for the deployment's time zone): a date in
year 9999 breaks every renewal computation, and a confirmation or an activity dated in the future
would count in a cycle that has not come.
"""

from __future__ import annotations

from datetime import date, timedelta

EARLIEST = date(1950, 1, 1)


def out_of_range(day: date, what: str, today: date | None = None) -> str | None:
    """Why ``day`` cannot be the day ``what`` happened, or ``None`` when it can."""
    latest = (today or date.today()) + timedelta(days=1)
    if EARLIEST <= day <= latest:
        return None
    return f"the {what} {day} is not between {EARLIEST} and today"
