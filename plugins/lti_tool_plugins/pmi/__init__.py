"""PMI: Certified Medical Office Manager (CMOM).

Source: seed 001 (12 CEUs needed each year, nine in specified core competencies); pmiMD.com
(1 CEU = 1 hour; each calendar year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, FixedCycleHourlySettings, HourlyRule, Requirement


@dataclass(frozen=True)
class PmiSettings(FixedCycleHourlySettings):
    cycle_months: int = 12
    cycle_first_start: date = date(2000, 1, 1)
    required_total: Decimal = Decimal(12)
    required_core: Decimal = Decimal(9)


class CmomRule(HourlyRule):
    """One CEU per hour; courses in category ``core`` count toward the 9 core-competency CEUs."""

    credential = "pmi-cmom"
    body = "PMI"
    title = "Certified Medical Office Manager (CMOM)"
    unit = "CEUs"
    rule_version = "pmi-2026.1"
    source = "seed 001; pmimd.com"
    settings_class = PmiSettings
    settings: PmiSettings
    cycle_kind = "fixed"
    prorates = True
    categories = ("core",)
    learner_fields = ("number",)
    interpretations = (
        "One CEU per 60 minutes, in steps of 0.25, rounded down.",
        "A course mapped with category 'core' is in PMI's core competencies; any other course counts "
        "toward the 12 only.",
        "The year is the calendar year (1 January to 31 December). In the year of certification the "
        "12 (and the 9 core) are prorated by the whole months left after the certification month "
        "(and that month too when certified on its 1st: no month is lost), rounded up, and only "
        "credit from the certification day counts.",
        RETAKE_INTERPRETATIONS["cycle"],
    )

    def requirements(self) -> tuple[Requirement, ...]:
        s = self.settings
        return (
            Requirement("total", "total", s.required_total),
            Requirement("core", "core competencies", s.required_core, category="core"),
        )
