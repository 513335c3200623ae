"""``lti_tool.credits.testing``: the contract and golden-case checks a plugin author runs with one call."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

import pytest

from lti_tool.credits.api import Activity, Award, Conversion, HourlyRule, HourlySettings
from lti_tool.credits.registry import discover_rules
from lti_tool.credits.testing import GoldenCase, check_conversion, check_golden_case, check_plugin

RULES = discover_rules()


@pytest.mark.parametrize("credential", sorted(RULES))
def test_every_built_in_plugin_passes_check_plugin(credential: str) -> None:
    check_plugin(RULES[credential])


class FloatRule(HourlyRule):
    credential = "acme-float"
    body = "ACME"
    title = "ACME"
    unit = "points"
    rule_version = "acme-1"
    source = "acme.example"
    cycle_kind = "certification"
    interpretations = ("one point an hour",)

    def convert(self, activity: Activity) -> Conversion:
        result = super().convert(activity)
        return dataclasses.replace(result, amount=1.5) if isinstance(result, Award) else result


def test_check_conversion_fails_on_a_float_amount() -> None:
    with pytest.raises(AssertionError, match="amount 1.5"):
        check_conversion(FloatRule)


def test_check_plugin_fails_on_a_rule_without_golden_cases() -> None:
    @dataclass(frozen=True)
    class Plain(HourlySettings):
        pass

    class NoCases(FloatRule):
        credential = "acme-none"
        settings_class = Plain

        def convert(self, activity: Activity) -> Conversion:
            return HourlyRule.convert(self, activity)

    with pytest.raises(AssertionError, match="acme-none has 0 golden cases"):
        check_plugin(NoCases)


def test_a_golden_case_that_does_not_hold_names_the_case_and_the_difference() -> None:
    case = GoldenCase("acmss-cmss", "ninety minutes", Activity(minutes=90), "2", None, None, frozenset(), "")
    with pytest.raises(AssertionError, match=r"acmss-cmss: ninety minutes: credit 1.5, expected 2"):
        check_golden_case(RULES["acmss-cmss"](), case)


def test_a_golden_case_that_holds_passes() -> None:
    case = GoldenCase("acmss-cmss", "ninety minutes", Activity(minutes=90), "1.5", "CMS06140729A", None,
                      frozenset(), "")
    check_golden_case(RULES["acmss-cmss"](), case)
    assert RULES["acmss-cmss"]().convert(case.activity).amount == Decimal("1.5")
