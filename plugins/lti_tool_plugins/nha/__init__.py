"""NHA: Certified Clinical Medical Assistant (CCMA).

Source: seed 003 (10 credits every two years).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, HourlyRule, HourlySettings, RenewalItem


@dataclass(frozen=True)
class NhaSettings(HourlySettings):
    cycle_months: int = 24
    required_total: Decimal = Decimal(10)


class CcmaRule(HourlyRule):
    """Certified Clinical Medical Assistant (CCMA): contact hours as CE credits."""

    credential = "nha-ccma"
    body = "NHA"
    title = "Certified Clinical Medical Assistant (CCMA)"
    unit = "CE credits"
    rule_version = "nha-2026.1"
    source = "seed 003 (10 credits every two years)"
    settings_class = NhaSettings
    cycle_kind = "certification"
    learner_fields = ("number",)
    credits_authorship = True
    interpretations = (
        "One credit per 60 minutes, in steps of 0.25, rounded down.",
        "The two years run from the certification date.",
        RETAKE_INTERPRETATIONS["cycle"],
        "NHA's renewal fee is a condition of renewal no course proves: the learner confirms it, with the date, "
        "in each cycle, and is ready to renew only once it is confirmed.",
    )

    def renewal_items(self) -> tuple[RenewalItem, ...]:
        return (RenewalItem("renewal-fee", "the NHA renewal fee", "fee"),)
