"""Every plugin gives exactly what its golden case table (``cases.csv`` beside it) says."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lti_tool.credits.api import Award, Refusal
from lti_tool.credits.registry import discover_rules, load_rulebook
from lti_tool.credits.testing import GoldenCase, cases_file, read_cases

RULEBOOK = load_rulebook()


def _all_cases() -> list[GoldenCase]:
    cases: list[GoldenCase] = []
    seen: set[str] = set()
    for rule in discover_rules().values():
        text = cases_file(rule)
        if text is not None and rule.__module__ not in seen:
            seen.add(rule.__module__)
            cases.extend(read_cases(text))
    return cases


CASES = _all_cases()


def test_every_plugin_has_golden_cases_including_a_refusal() -> None:
    for credential in RULEBOOK.credentials:
        mine = [c for c in CASES if c.credential == credential]
        assert len(mine) >= 3, f"{credential} has {len(mine)} golden cases"
        assert any(c.credit == "refused" for c in mine), f"{credential} has no refusal case"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.credential}: {c.case}")
def test_golden_case(case: GoldenCase) -> None:
    rule = RULEBOOK.get(case.credential)
    result = rule.convert(case.activity)
    assert case.reason_has in result.reason, result.reason
    if case.credit == "refused":
        assert isinstance(result, Refusal), result
        return
    assert isinstance(result, Award), result
    assert isinstance(result.amount, Decimal)
    assert result.amount == Decimal(case.credit)
    assert str(result.amount) == case.credit, "amounts are in their plain form"
    assert (result.index_number, result.category) == (case.index_number, case.category)
    assert result.tags == case.tags
    assert result.unit == rule.unit and result.credential == case.credential
