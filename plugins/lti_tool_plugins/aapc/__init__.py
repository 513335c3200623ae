"""AAPC: Certified Physician Practice Manager (CPPM).

Source: seed 001 (36 CEUs related to practice management every two years); aapc.com (16 of them
pre-approved practice-management CEUs with an AAPC index number; a course counts once; no
carry-over).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import RETAKE_INTERPRETATIONS, Activity, HourlyRule, HourlySettings, RenewalItem, Requirement


@dataclass(frozen=True)
class AapcSettings(HourlySettings):
    cycle_months: int = 24
    required_total: Decimal = Decimal(36)
    required_approved_practice_management: Decimal = Decimal(16)


class CppmRule(HourlyRule):
    """One CEU per hour; AAPC pre-approved practice-management CEUs count toward the 16."""

    credential = "aapc-cppm"
    body = "AAPC"
    title = "Certified Physician Practice Manager (CPPM)"
    unit = "CEUs"
    rule_version = "aapc-2026.1"
    source = "seed 001; aapc.com"
    settings_class = AapcSettings
    settings: AapcSettings
    cycle_kind = "certification"
    approval_code = "AAPC"
    categories = ("practice-management",)
    course_counts_once = True
    learner_fields = ("number",)
    interpretations = (
        "One CEU per 60 minutes, in steps of 0.25, rounded down.",
        "A CEU counts toward the 16 pre-approved practice-management CEUs when AAPC approved the "
        "course, it carries its AAPC index number and it is in category 'practice-management'.",
        RETAKE_INTERPRETATIONS["ever"],
        "AAPC membership is a condition of renewal no course proves: the learner confirms it, with the date, "
        "in each cycle, and is ready to renew only once it is confirmed.",
        "The two years run from the certification date; nothing carries over.",
    )

    def tags_for(self, activity: Activity) -> set[str]:
        tags = super().tags_for(activity)
        if self.approved(activity) and activity.index_number and self.category_of(activity):
            tags.add("approved-practice-management")
        return tags

    def renewal_items(self) -> tuple[RenewalItem, ...]:
        return (RenewalItem("aapc-membership", "AAPC membership", "membership"),)

    def requirements(self) -> tuple[Requirement, ...]:
        s = self.settings
        return (
            Requirement("total", "total", s.required_total),
            Requirement("approved-practice-management", "AAPC pre-approved practice management",
                        s.required_approved_practice_management, tag="approved-practice-management"),
        )
