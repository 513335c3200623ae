"""POMAA: Certified Practice Manager (CPM).

Source: seed 001 (12 CEUs each year).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, HourlyRule, HourlySettings


@dataclass(frozen=True)
class PomaaSettings(HourlySettings):
    cycle_months: int = 12
    required_total: Decimal = Decimal(12)


class CpmRule(HourlyRule):
    """Certified Practice Manager (CPM): contact hours as CEUs."""

    credential = "pomaa-cpm"
    body = "POMAA"
    title = "Certified Practice Manager (CPM)"
    unit = "CEUs"
    rule_version = "pomaa-2026.1"
    source = "seed 001 (12 CEUs each year)"
    settings_class = PomaaSettings
    cycle_kind = "certification"
    learner_fields = ("number",)
    interpretations = (
        "One CEU per 60 minutes, in steps of 0.25, rounded down.",
        "The year runs from the certification date.",
        RETAKE_INTERPRETATIONS["cycle"],
    )
