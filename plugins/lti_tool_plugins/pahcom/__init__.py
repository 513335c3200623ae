"""PAHCOM: Certified Medical Manager (CMM).

Source: seed 001; pahcom.com (24 CEUs every two years: 12 PAHCOM-approved, logged by index number,
and 12 recognized; no carry-forward).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, Activity, HourlyRule, HourlySettings, RenewalItem, Requirement


@dataclass(frozen=True)
class PahcomSettings(HourlySettings):
    cycle_months: int = 24
    required_total: Decimal = Decimal(24)
    required_approved: Decimal = Decimal(12)


class CmmRule(HourlyRule):
    """One CEU per 60 minutes; PAHCOM-approved activities with their index number count toward 12."""

    credential = "pahcom-cmm"
    body = "PAHCOM"
    title = "Certified Medical Manager (CMM)"
    unit = "CEUs"
    rule_version = "pahcom-2026.1"
    source = "seed 001; pahcom.com"
    settings_class = PahcomSettings
    settings: PahcomSettings
    cycle_kind = "certification"
    approval_code = "PAHCOM"
    learner_fields = ("number",)
    interpretations = (
        "One CEU per 60 minutes, in steps of 0.25, rounded down.",
        "A PAHCOM-approved activity counts toward the 12 approved CEUs only with its PAHCOM index "
        "number (approved CEUs are logged by index number); without one it counts as recognized.",
        "The two years run from the certification date; nothing carries forward.",
        RETAKE_INTERPRETATIONS["cycle"],
        "PAHCOM membership is a condition of renewal no course proves: the learner confirms it, with the date, "
        "in each cycle, and is ready to renew only once it is confirmed.",
    )

    def tags_for(self, activity: Activity) -> set[str]:
        tags = super().tags_for(activity)
        if not activity.index_number:
            tags.discard("approved")
        return tags

    def renewal_items(self) -> tuple[RenewalItem, ...]:
        return (RenewalItem("pahcom-membership", "PAHCOM membership", "membership"),)

    def requirements(self) -> tuple[Requirement, ...]:
        s = self.settings
        return (
            Requirement("total", "total", s.required_total),
            Requirement("approved", "PAHCOM-approved (by index number)", s.required_approved, tag="approved"),
        )
