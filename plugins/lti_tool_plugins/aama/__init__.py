"""AAMA: Certified Medical Assistant (CMA) recertification points.

Source: seed 003; aama-ntl.org recertification policies (60 points in 60 months: at least 10
administrative, 10 clinical, 10 general, 30 AAMA-approved; a CPR card is 4 clinical points, at most
3 cards a cycle; non-approved programs count only from one contact hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import (
    RETAKE_INTERPRETATIONS,
    Activity,
    Award,
    Conversion,
    HourlyRule,
    HourlySettings,
    Requirement,
    normalized,
)


@dataclass(frozen=True)
class AamaSettings(HourlySettings):
    minutes_per_unit: int = 50
    step: Decimal = Decimal("0.5")
    cycle_months: int = 60
    required_total: Decimal = Decimal(60)
    required_administrative: Decimal = Decimal(10)
    required_clinical: Decimal = Decimal(10)
    required_general: Decimal = Decimal(10)
    required_approved: Decimal = Decimal(30)
    non_approved_minimum_minutes: int = 50
    cpr_card_points: Decimal = Decimal(4)
    cpr_card_cap: Decimal = Decimal(12)
    """At most this many CPR-card points count in a cycle (3 cards)."""


class CmaRule(HourlyRule):
    """One point per 50-minute contact hour, by category, with AAMA approval and CPR cards."""

    credential = "aama-cma"
    body = "AAMA"
    title = "Certified Medical Assistant (CMA (AAMA))"
    unit = "recertification points"
    rule_version = "aama-2026.1"
    source = "seed 003; aama-ntl.org recertification policies"
    settings_class = AamaSettings
    settings: AamaSettings
    cycle_kind = "certification"
    approval_code = "AAMA"
    categories = ("administrative", "clinical", "general")
    learner_fields = ("number",)
    credits_authorship = True
    interpretations = (
        "One point per 50-minute contact hour, in steps of 0.5, rounded down (75 minutes = 1.5).",
        "A program that is not AAMA-approved counts only from one contact hour (50 minutes): 49 "
        "minutes is refused, 50 earns 1 point.",
        "An award without an administrative, clinical or general category counts toward the total "
        "(and the 30 from any category) only.",
        "A CPR card is 4 clinical points whatever its length; at most 3 cards (12 points) count in a "
        "cycle, the earliest first; a card never counts toward the 30 AAMA-approved points.",
        "The 60 months run from the learner's certification date.",
        RETAKE_INTERPRETATIONS["cycle"],
    )

    def convert(self, activity: Activity) -> Conversion:
        refusal = self.refusal_for_type(activity)
        if refusal is not None:
            return refusal
        s = self.settings
        if activity.cpr_card:
            points = normalized(s.cpr_card_points)
            return self.award(points, f"CPR card: {points} clinical points", category="clinical",
                              tags={"cpr-card"})
        minutes = self.contact_minutes(activity)
        if not self.approved(activity) and 0 < minutes < s.non_approved_minimum_minutes:
            return self.refuse(
                f"not AAMA-approved: counts only from one contact hour ({s.non_approved_minimum_minutes} "
                f"minutes); this is {minutes}"
            )
        result = super().convert(activity)
        if self.category_of(activity) is None and isinstance(result, Award):
            return self.award(result.amount, f"{result.reason}; no category: counts toward the total only",
                              index_number=result.index_number, tags=result.tags)
        return result

    def requirements(self) -> tuple[Requirement, ...]:
        s = self.settings
        return (
            Requirement("total", "total", s.required_total),
            Requirement("administrative", "administrative", s.required_administrative, category="administrative"),
            Requirement("clinical", "clinical", s.required_clinical, category="clinical"),
            Requirement("general", "general", s.required_general, category="general"),
            Requirement("approved", "AAMA-approved", s.required_approved, tag="approved"),
            Requirement("cpr-cards", "CPR cards, counted up to the cap", s.cpr_card_cap, kind="cap", tag="cpr-card"),
        )
