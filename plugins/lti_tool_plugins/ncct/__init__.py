"""NCCT: National Certified Medical Assistant (NCMA).

Source: seed 003; ncctinc.com (14 hours or more every year; clock hours rounded down to the nearest half hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, HourlyRule, HourlySettings, RenewalItem


@dataclass(frozen=True)
class NcctSettings(HourlySettings):
    cycle_months: int = 12
    required_total: Decimal = Decimal(14)
    step: Decimal = Decimal("0.5")


class NcmaRule(HourlyRule):
    """National Certified Medical Assistant (NCMA): contact hours as clock hours."""

    credential = "ncct-ncma"
    body = "NCCT"
    title = "National Certified Medical Assistant (NCMA)"
    unit = "clock hours"
    rule_version = "ncct-2026.1"
    source = "seed 003; ncctinc.com (14 hours or more every year; clock hours rounded down to the nearest half hour)"
    settings_class = NcctSettings
    cycle_kind = "certification"
    learner_fields = ("number",)
    credits_authorship = True
    interpretations = (
        "Clock hours rounded down to the nearest half hour (89 minutes = 1).",
        "The year runs from the certification date.",
        RETAKE_INTERPRETATIONS["cycle"],
        "NCCT's annual fee is a condition of renewal no course proves: the learner confirms it, with the date, "
        "in each cycle, and is ready to renew only once it is confirmed.",
    )

    def renewal_items(self) -> tuple[RenewalItem, ...]:
        return (RenewalItem("annual-fee", "the annual NCCT fee", "fee"),)
