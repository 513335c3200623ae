"""ACMPE's proration by MGMA's published half-year schedule, row by row and edge by edge, in the
first cycle and in later ones, for CMPE and FACMPE, with the numbers overridable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from lti_tool.credits.api import Holding, Progress
from lti_tool.credits.registry import RuleSettingsError, load_rulebook

RULES = load_rulebook()

# (first day, last day) of each row of the schedule in the 2022-2024 cycle, and what it owes:
# total, MGMA, of which live.
SCHEDULE = [
    (date(2022, 1, 2), date(2022, 6, 30), (50, 30, 12)),
    (date(2022, 7, 1), date(2022, 12, 31), (40, 24, 10)),
    (date(2023, 1, 1), date(2023, 6, 30), (30, 18, 7)),
    (date(2023, 7, 1), date(2023, 12, 31), (20, 12, 5)),
    (date(2024, 1, 1), date(2024, 12, 31), (0, 0, 0)),
]


def due(progress: Progress) -> tuple[int, ...]:
    lines = {line.id: line.required for line in progress.requirements}
    return tuple(int(lines[r]) for r in ("total", "mgma", "mgma-live"))


def edges() -> list[tuple[str, date, tuple[int, int, int], int]]:
    cases = []
    for first, last, owed in SCHEDULE:
        for years in (0, 3):  # the 2022-2024 cycle and the 2025-2027 one
            for day in (first, last):
                moved = day.replace(year=day.year + years)
                for credential in ("acmpe-cmpe", "acmpe-facmpe"):
                    cases.append((credential, moved, owed, years))
    return cases


@pytest.mark.parametrize("credential, certified, owed, years", edges(),
                         ids=lambda v: v.isoformat() if isinstance(v, date) else str(v))
def test_each_edge_of_each_half_year_owes_its_row(credential: str, certified: date, owed: tuple[int, ...],
                                                  years: int) -> None:
    progress = RULES.get(credential).progress([], Holding(credential, certified_on=certified),
                                              date(2024 + years, 12, 31))
    assert progress.prorated
    assert due(progress) == owed


def test_certified_in_the_last_year_owes_no_credit() -> None:
    """The issue's case: a CMPE certified on 2024-02-01 owes 0 hours for the 2022-2024 cycle."""
    progress = RULES.get("acmpe-cmpe").progress([], Holding("acmpe-cmpe", certified_on=date(2024, 2, 1)),
                                                date(2024, 12, 1))
    assert (progress.required, progress.met) == (Decimal(0), True)
    assert not [m for m in progress.missing if "credit hours" in m]


def test_certified_on_the_cycles_first_day_is_not_prorated() -> None:
    progress = RULES.get("acmpe-cmpe").progress([], Holding("acmpe-cmpe", certified_on=date(2025, 1, 1)),
                                                date(2025, 6, 1))
    assert not progress.prorated and due(progress) == (50, 30, 12)


def test_the_next_cycle_after_certification_owes_it_all() -> None:
    progress = RULES.get("acmpe-cmpe").progress([], Holding("acmpe-cmpe", certified_on=date(2023, 8, 1)),
                                                date(2025, 6, 1))
    assert not progress.prorated and due(progress) == (50, 30, 12)


def test_each_number_of_the_schedule_is_a_setting(tmp_path: Path) -> None:
    path = tmp_path / "credit_rules.toml"
    path.write_text("[acmpe-cmpe]\nthird_half_year_total = 32\nthird_half_year_mgma = 19\nthird_half_year_mgma_live = 8\n")
    rules = load_rulebook(path)
    progress = rules.get("acmpe-cmpe").progress([], Holding("acmpe-cmpe", certified_on=date(2023, 3, 1)),
                                                date(2024, 1, 1))
    assert due(progress) == (32, 19, 8)
    facmpe = rules.get("acmpe-facmpe").progress([], Holding("acmpe-facmpe", certified_on=date(2023, 3, 1)),
                                                date(2024, 1, 1))
    assert due(facmpe) == (30, 18, 7)  # an override names its credential


def test_a_schedule_row_with_more_live_than_mgma_hours_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "credit_rules.toml"
    path.write_text("[acmpe-cmpe]\nsecond_half_year_mgma_live = 30\n")
    with pytest.raises(RuleSettingsError, match="second_half_year"):
        load_rulebook(path)
