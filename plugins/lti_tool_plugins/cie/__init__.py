"""CIE: Certified Medical Manager Practitioner (CMMP, CIE with CSME).

Source: seed 001 (24 CEUs every two years).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, HourlyRule, HourlySettings


@dataclass(frozen=True)
class CieSettings(HourlySettings):
    cycle_months: int = 24
    required_total: Decimal = Decimal(24)


class CmmpRule(HourlyRule):
    """Certified Medical Manager Practitioner (CMMP, CIE with CSME): contact hours as CEUs."""

    credential = "cie-cmmp"
    body = "CIE"
    title = "Certified Medical Manager Practitioner (CMMP, CIE with CSME)"
    unit = "CEUs"
    rule_version = "cie-2026.1"
    source = "seed 001 (24 CEUs every two years)"
    settings_class = CieSettings
    cycle_kind = "certification"
    learner_fields = ("number",)
    interpretations = (
        "One CEU per 60 minutes, in steps of 0.25, rounded down.",
        "The two years run from the certification date.",
        RETAKE_INTERPRETATIONS["cycle"],
    )
