"""MMI: Registered Medical Manager (RMM).

Source: seed 001 (12 CEUs every year).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, HourlyRule, HourlySettings


@dataclass(frozen=True)
class MmiSettings(HourlySettings):
    cycle_months: int = 12
    required_total: Decimal = Decimal(12)


class RmmRule(HourlyRule):
    """Registered Medical Manager (RMM): contact hours as CEUs."""

    credential = "mmi-rmm"
    body = "MMI"
    title = "Registered Medical Manager (RMM)"
    unit = "CEUs"
    rule_version = "mmi-2026.1"
    source = "seed 001 (12 CEUs every year)"
    settings_class = MmiSettings
    cycle_kind = "certification"
    learner_fields = ("number",)
    interpretations = (
        "One CEU per 60 minutes, in steps of 0.25, rounded down.",
        "The year runs from the certification date.",
        RETAKE_INTERPRETATIONS["cycle"],
    )
