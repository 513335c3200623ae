"""AMT: Registered Medical Assistant (RMA).

Source: seed 003; americanmedtech.org (30 CCP points every three years; nothing before the cycle's start;
no carry-over).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, HourlyRule, HourlySettings


@dataclass(frozen=True)
class AmtSettings(HourlySettings):
    cycle_months: int = 36
    required_total: Decimal = Decimal(30)


class RmaRule(HourlyRule):
    """Registered Medical Assistant (RMA): contact hours as CCP points."""

    credential = "amt-rma"
    body = "AMT"
    title = "Registered Medical Assistant (RMA)"
    unit = "CCP points"
    rule_version = "amt-2026.1"
    source = (
        "seed 003; americanmedtech.org (30 CCP points every three years; nothing before the cycle's start; "
        "no carry-over)"
    )
    settings_class = AmtSettings
    cycle_kind = "certification"
    learner_fields = ("number",)
    credits_authorship = True
    interpretations = (
        "One point per 60 minutes, in steps of 0.25, rounded down.",
        "The three years run from the certification date; nothing earned before the cycle's start counts and "
        "nothing carries over.",
        RETAKE_INTERPRETATIONS["cycle"],
    )
