"""Renewal progress per credential family: cycles, category and source minimums, caps, proration."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lti_tool.credits.api import EarnedCredit, Holding, Progress
from lti_tool.credits.registry import load_rulebook

RULES = load_rulebook()


def credit(credential: str, amount: str, on: str, course: str, *, category: str | None = None,
           tags: tuple[str, ...] = ()) -> EarnedCredit:
    return EarnedCredit(credential, Decimal(amount), date.fromisoformat(on), course, category, frozenset(tags))


def line(progress: Progress, requirement: str) -> tuple[Decimal, Decimal, bool]:
    [found] = [r for r in progress.requirements if r.id == requirement]
    return found.earned, found.required, found.met


def test_aama_learner_short_in_one_category_is_not_met_and_told_what_is_missing() -> None:
    awards = [
        credit("aama-cma", "25", "2024-05-01", "a1", category="administrative", tags=("approved",)),
        credit("aama-cma", "25", "2024-06-01", "g1", category="general", tags=("approved",)),
        credit("aama-cma", "6", "2025-01-10", "c1", category="clinical"),
        credit("aama-cma", "8", "2025-02-10", "x1"),
    ]
    progress = RULES.get("aama-cma").progress(awards, Holding("aama-cma", certified_on=date(2022, 3, 1)),
                                              date(2026, 1, 1))
    assert (progress.cycle_start, progress.cycle_end) == (date(2022, 3, 1), date(2027, 2, 28))
    assert (progress.earned, progress.required) == (Decimal(64), Decimal(60))
    assert line(progress, "total")[2] and line(progress, "approved") == (Decimal(50), Decimal(30), True)
    assert line(progress, "administrative")[2] and line(progress, "general")[2]
    assert line(progress, "clinical") == (Decimal(6), Decimal(10), False)
    assert not progress.met
    assert progress.missing == ("4 more recertification points (clinical) by 2027-02-28",)


def test_aama_four_cpr_cards_count_as_three() -> None:
    cards = [credit("aama-cma", "4", f"2024-0{m}-01", f"cpr{m}", category="clinical", tags=("cpr-card",))
             for m in (1, 2, 3, 4)]
    progress = RULES.get("aama-cma").progress(cards, Holding("aama-cma", certified_on=date(2023, 1, 1)),
                                              date(2025, 1, 1))
    [cap] = [r for r in progress.requirements if r.id == "cpr-cards"]
    assert (cap.kind, cap.earned, cap.required, cap.not_counted) == ("cap", Decimal(12), Decimal(12), Decimal(4))
    assert line(progress, "clinical")[0] == Decimal(12)
    assert progress.earned == Decimal(12)


def test_acmpe_learner_with_fifty_hours_but_only_eight_live_is_short_of_live_hours() -> None:
    awards = [credit("acmpe-cmpe", "8", "2025-03-01", "live", tags=("mgma", "live", "mgma-live")),
              credit("acmpe-cmpe", "24", "2025-06-01", "mgma", tags=("mgma",)),
              credit("acmpe-cmpe", "18", "2026-02-01", "other")]
    progress = RULES.get("acmpe-cmpe").progress(awards, Holding("acmpe-cmpe", certified_on=date(2019, 5, 1)),
                                                date(2026, 6, 1))
    assert (progress.cycle_start, progress.cycle_end) == (date(2025, 1, 1), date(2027, 12, 31))
    assert line(progress, "total") == (Decimal(50), Decimal(50), True)
    assert line(progress, "mgma") == (Decimal(32), Decimal(30), True)
    assert line(progress, "mgma-live") == (Decimal(8), Decimal(12), False)
    assert progress.missing == ("4 more credit hours (MGMA live) by 2027-12-31",
                                "confirm MGMA membership by 2027-12-31")


def test_acmpe_certified_inside_a_cycle_owes_the_schedule_of_its_half_year_from_certification() -> None:
    awards = [credit("acmpe-cmpe", "10", "2023-06-01", "before"),
              credit("acmpe-cmpe", "20", "2023-09-01", "after", tags=("mgma",))]
    progress = RULES.get("acmpe-cmpe").progress(awards, Holding("acmpe-cmpe", certified_on=date(2023, 7, 10)),
                                                date(2024, 1, 1))
    assert progress.prorated and "half-year 4" in (progress.note or "")
    assert line(progress, "total") == (Decimal(20), Decimal(20), True)
    assert line(progress, "mgma") == (Decimal(20), Decimal(12), True)
    assert line(progress, "mgma-live") == (Decimal(0), Decimal(5), False)


def test_pmi_learner_with_twelve_ceus_but_eight_core_is_short_of_core() -> None:
    awards = [credit("pmi-cmom", "8", "2026-02-01", "core", category="core"),
              credit("pmi-cmom", "4", "2026-04-01", "other")]
    progress = RULES.get("pmi-cmom").progress(awards, Holding("pmi-cmom", certified_on=date(2020, 8, 15)),
                                              date(2026, 9, 1))
    assert (progress.cycle_start, progress.cycle_end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert line(progress, "total") == (Decimal(12), Decimal(12), True)
    assert line(progress, "core") == (Decimal(8), Decimal(9), False)
    assert not progress.met


def test_a_cycle_boundary_counts_nothing_from_before_the_cycle_and_carries_nothing_over() -> None:
    awards = [credit("amt-rma", "29", "2026-03-14", "last-day-of-old-cycle"),
              credit("amt-rma", "2", "2026-03-15", "first-day-of-new-cycle")]
    holding = Holding("amt-rma", certified_on=date(2023, 3, 15))
    rule = RULES.get("amt-rma")
    old = rule.progress(awards, holding, date(2026, 3, 14))
    new = rule.progress(awards, holding, date(2026, 3, 15))
    assert (old.cycle_start, old.cycle_end, old.earned) == (date(2023, 3, 15), date(2026, 3, 14), Decimal(29))
    assert (new.cycle_start, new.cycle_end, new.earned) == (date(2026, 3, 15), date(2029, 3, 14), Decimal(2))


def test_acmpe_fixed_cycle_boundary_is_the_same_for_every_member() -> None:
    awards = [credit("acmpe-cmpe", "5", "2024-12-31", "old"), credit("acmpe-cmpe", "3", "2025-01-01", "new")]
    rule = RULES.get("acmpe-cmpe")
    for certified in (date(2010, 2, 3), date(2018, 11, 30)):
        progress = rule.progress(awards, Holding("acmpe-cmpe", certified_on=certified), date(2025, 1, 2))
        assert (progress.cycle_start, progress.earned) == (date(2025, 1, 1), Decimal(3))


def test_credit_earned_after_the_day_measured_does_not_count_yet() -> None:
    awards = [credit("nha-ccma", "3", "2026-01-01", "a"), credit("nha-ccma", "4", "2026-05-01", "b")]
    progress = RULES.get("nha-ccma").progress(awards, Holding("nha-ccma", certified_on=date(2025, 1, 1)),
                                              date(2026, 2, 1))
    assert progress.earned == Decimal(3)


def test_aapc_counts_a_course_once_however_often_it_is_completed() -> None:
    awards = [credit("aapc-cppm", "2", "2025-01-01", "same"), credit("aapc-cppm", "2", "2025-09-01", "same"),
              credit("aapc-cppm", "1", "2025-10-01", "other")]
    progress = RULES.get("aapc-cppm").progress(awards, Holding("aapc-cppm", certified_on=date(2024, 6, 1)),
                                               date(2025, 12, 1))
    assert progress.earned == Decimal(3)


def test_a_credential_without_a_cycle_accumulates() -> None:
    awards = [credit("iacet-ceu", "0.2", "2019-01-01", "a"), credit("iacet-ceu", "1.1", "2026-01-01", "b")]
    progress = RULES.get("iacet-ceu").progress(awards, Holding("iacet-ceu"), date(2026, 2, 1))
    assert (progress.earned, progress.required, progress.met, progress.cycle_start) == (
        Decimal("1.3"), Decimal(0), True, None)


def test_without_a_certification_date_no_cycle_is_made_up_and_the_learner_is_told() -> None:
    awards = [credit("amt-rma", "20", "2026-03-01", "a")]
    rule = RULES.get("amt-rma")
    for on in (date(2026, 5, 5), date(2027, 5, 5)):
        progress = rule.progress(awards, Holding("amt-rma"), on)
        assert (progress.cycle_start, progress.earned, progress.required, progress.met) == (
            None, Decimal(20), Decimal(30), False)
        assert progress.missing == ("record the certification date (or cycle start) of amt-rma "
                                    "to measure renewal progress",)


def test_certified_on_the_first_day_of_a_fixed_cycle_owes_it_all() -> None:
    progress = RULES.get("acmpe-cmpe").progress([], Holding("acmpe-cmpe", certified_on=date(2025, 1, 1)),
                                                date(2025, 6, 1))
    assert not progress.prorated and progress.required == Decimal(50)


def test_pmi_certification_year_is_prorated_and_counts_from_certification() -> None:
    awards = [credit("pmi-cmom", "5", "2025-06-01", "before", category="core"),
              credit("pmi-cmom", "1", "2025-12-01", "after", category="core")]
    holding = Holding("pmi-cmom", certified_on=date(2025, 11, 20))
    first = RULES.get("pmi-cmom").progress(awards, holding, date(2025, 12, 15))
    assert first.prorated and (first.earned, first.required) == (Decimal(1), Decimal(1))  # 12 x 1/12
    assert line(first, "core") == (Decimal(1), Decimal(1), True)  # 9 x 1/12 = 0.75, up to 1
    second = RULES.get("pmi-cmom").progress(awards, holding, date(2026, 2, 1))
    assert not second.prorated and second.required == Decimal(12)


def test_a_fixed_cycle_before_its_first_start_is_the_calendar_cycle_before() -> None:
    progress = RULES.get("acmpe-cmpe").progress([], Holding("acmpe-cmpe", certified_on=date(2015, 1, 1)),
                                                date(2021, 3, 1))
    assert (progress.cycle_start, progress.cycle_end) == (date(2019, 1, 1), date(2021, 12, 31))


def test_an_anniversary_on_29_february_falls_on_28_february_in_other_years() -> None:
    holding = Holding("ncct-ncma", certified_on=date(2024, 2, 29))
    rule = RULES.get("ncct-ncma")
    cycles = [(p.cycle_start, p.cycle_end) for p in
              (rule.progress([], holding, day) for day in (date(2024, 3, 1), date(2025, 3, 1), date(2028, 2, 29)))]
    assert cycles == [(date(2024, 2, 29), date(2025, 2, 27)), (date(2025, 2, 28), date(2026, 2, 27)),
                      (date(2028, 2, 29), date(2029, 2, 27))]


def test_a_recorded_cycle_start_overrides_the_certification_date() -> None:
    holding = Holding("ncct-ncma", certified_on=date(2020, 1, 1), cycle_start=date(2025, 7, 1))
    progress = RULES.get("ncct-ncma").progress([], holding, date(2026, 8, 1))
    assert (progress.cycle_start, progress.cycle_end) == (date(2026, 7, 1), date(2027, 6, 30))


def test_pmi_certified_on_the_first_of_a_month_owes_that_month_too() -> None:
    progress = RULES.get("pmi-cmom").progress([], Holding("pmi-cmom", certified_on=date(2025, 11, 1)),
                                              date(2025, 12, 15))
    assert progress.prorated and progress.required == Decimal(2)  # November and December: 12 x 2/12
    assert line(progress, "core")[1] == Decimal(2)  # 9 x 2/12 = 1.5, up to 2


def test_an_anniversary_cycle_from_the_first_of_a_month_loses_no_month() -> None:
    progress = RULES.get("ncct-ncma").progress([], Holding("ncct-ncma", certified_on=date(2025, 3, 1)),
                                               date(2025, 3, 1))
    assert (progress.cycle_start, progress.cycle_end) == (date(2025, 3, 1), date(2026, 2, 28))


def test_self_reported_credit_counts_and_is_shown_as_such() -> None:
    awards = [credit("amt-rma", "20", "2025-03-01", "hipaa"),
              EarnedCredit("amt-rma", Decimal(10), date(2025, 4, 1), "outside:1", course_key="outside:1",
                           self_reported=True)]
    progress = RULES.get("amt-rma").progress(awards, Holding("amt-rma", certified_on=date(2024, 1, 1)),
                                             date(2025, 6, 1))
    assert (progress.earned, progress.met, progress.self_reported) == (Decimal(30), True, Decimal(10))


def test_a_course_counts_once_per_cycle_even_under_two_keys() -> None:
    """Awards keyed under two periods (one before the certification date was recorded) still count
    a course once in the cycle."""
    awards = [credit("nha-ccma", "2", "2025-01-10", "hipaa"), credit("nha-ccma", "2", "2026-01-10", "hipaa")]
    progress = RULES.get("nha-ccma").progress(awards, Holding("nha-ccma", certified_on=date(2024, 3, 1)),
                                              date(2026, 2, 1))
    assert progress.earned == Decimal(2)
