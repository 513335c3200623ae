"""Months arithmetic and the cycle a day falls in."""

from __future__ import annotations

from datetime import date

import pytest

from lti_tool.credits.cycles import add_months, cycle_containing


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2023, 1, 31), 1, date(2023, 2, 28)),
    (date(2022, 1, 1), 36, date(2025, 1, 1)),
    (date(2024, 3, 15), -12, date(2023, 3, 15)),
    (date(2024, 12, 5), 1, date(2025, 1, 5)),
])
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(("on", "start", "end"), [
    (date(2024, 3, 14), date(2023, 3, 15), date(2024, 3, 14)),
    (date(2024, 3, 15), date(2024, 3, 15), date(2025, 3, 14)),
    (date(2023, 3, 15), date(2023, 3, 15), date(2024, 3, 14)),
    (date(2022, 1, 1), date(2023, 3, 15), date(2024, 3, 14)),
])
def test_cycle_containing_a_day(on: date, start: date, end: date) -> None:
    assert cycle_containing(date(2023, 3, 15), 12, on) == (start, end)
