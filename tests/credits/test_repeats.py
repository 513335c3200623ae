"""Each rule's retake policy: the key its awards are unique under, and the line it states."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, Award, Holding
from lti_tool.credits.registry import load_rulebook

RULES = load_rulebook()


def award(credential: str, index_number: str | None = None) -> Award:
    return Award(credential, Decimal(1), "CEUs", "r", index_number=index_number)


@pytest.mark.parametrize("credential", RULES.credentials)
def test_every_rule_states_its_retake_policy(credential: str) -> None:
    rule = RULES.get(credential)
    assert RETAKE_INTERPRETATIONS[rule.effective_repeat_policy()] in rule.interpretations


def test_a_fixed_cycle_keys_by_the_cycle_shared_by_all_members() -> None:
    key = RULES.get("acmpe-cmpe").repeat_key("565", award("acmpe-cmpe"), Holding("acmpe-cmpe"), date(2026, 5, 1))
    assert (key.course, key.period, key.label) == ("course:565", "cycle:2025-01-01", "2025-01-01..2027-12-31")


def test_a_certification_cycle_keys_by_the_learners_own_cycle() -> None:
    holding = Holding("nha-ccma", certified_on=date(2024, 3, 1))
    key = RULES.get("nha-ccma").repeat_key("565", award("nha-ccma"), holding, date(2026, 3, 1))
    assert key.period == "cycle:2026-03-01"


def test_an_unrecorded_certification_date_keys_one_unknown_period() -> None:
    """No guessed cycle: a retake is not credited again until the date is recorded."""
    rule = RULES.get("nha-ccma")
    keys = {rule.repeat_key("565", award("nha-ccma"), Holding("nha-ccma"), date(year, 3, 1)).period
            for year in (2024, 2026, 2028)}
    assert keys == {"unanchored"}


def test_aapc_keys_by_index_number_once_ever() -> None:
    key = RULES.get("aapc-cppm").repeat_key("565", award("aapc-cppm", "AAPC-1"), Holding("aapc-cppm"),
                                            date(2026, 3, 1))
    assert (key.course, key.period) == ("index:AAPC-1", "ever")


def test_aapc_keys_a_course_without_index_number_by_the_lms_course() -> None:
    key = RULES.get("aapc-cppm").repeat_key("565", award("aapc-cppm"), Holding("aapc-cppm"), date(2026, 3, 1))
    assert key.course == "course:565"


def test_other_bodies_do_not_key_by_index_number() -> None:
    """ACMSS's index numbers name a row of its table (a length of training), not a course."""
    key = RULES.get("acmss-cmss").repeat_key("565", award("acmss-cmss", "CMS06140728A"), Holding("acmss-cmss"),
                                             date(2026, 3, 1))
    assert key.course == "course:565"


def test_a_rule_without_cycle_keys_by_calendar_year() -> None:
    key = RULES.get("iacet-ceu").repeat_key("565", award("iacet-ceu"), Holding("iacet-ceu"), date(2026, 12, 31))
    assert key.period == "year:2026"
