"""Generic CEU, IACET convention: 1 CEU per 10 contact hours.

Source: seed 003; iacet.org (1 CEU = 10 contact hours of participation in an organized continuing
education experience, rounded to the nearest tenth).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import (
    RETAKE_INTERPRETATIONS,
    ROUNDING_MODES,
    TIMED_TYPES,
    Activity,
    Conversion,
    CreditRule,
    Requirement,
    RuleSettings,
    hours,
    normalized,
    to_step,
)


@dataclass(frozen=True)
class IacetSettings(RuleSettings):
    minutes_per_hour: int = 60
    hours_per_ceu: Decimal = Decimal(10)
    step: Decimal = Decimal("0.1")
    rounding: str = "half_up"
    minimum: Decimal = Decimal("0.1")

    def problems(self) -> list[str]:
        found = []
        if self.minutes_per_hour < 1:
            found.append("minutes_per_hour: must be at least 1")
        if self.hours_per_ceu <= 0:
            found.append("hours_per_ceu: must be more than 0")
        if self.step <= 0:
            found.append("step: must be more than 0")
        if self.rounding not in ROUNDING_MODES:
            found.append(f"rounding: {self.rounding!r} is not one of {', '.join(ROUNDING_MODES)}")
        return found


class CeuRule(CreditRule):
    """Contact hours / 10, rounded to the nearest 0.1 CEU (half up)."""

    credential = "iacet-ceu"
    body = "IACET"
    title = "Continuing Education Units (IACET convention)"
    unit = "CEUs"
    rule_version = "iacet-2026.1"
    source = "seed 003; iacet.org"
    settings_class = IacetSettings
    settings: IacetSettings
    cycle_kind = "none"
    interpretations = (
        "1 CEU per 10 contact hours of 60 minutes, rounded to the nearest 0.1 CEU, halves up "
        "(30 minutes = 0.05 = 0.1 CEU; 90 minutes = 0.15 = 0.2 CEU).",
        "Under 0.1 CEU after rounding is refused (29 minutes).",
        "No renewal cycle: CEUs accumulate.",
        "Only time-based activities earn CEUs (college coursework by the hours an administrator "
        "entered); the never-credited types are refused.",
        RETAKE_INTERPRETATIONS["calendar_year"],
    )

    def convert(self, activity: Activity) -> Conversion:
        refusal = self.refusal_for_type(activity)
        if refusal is not None:
            return refusal
        if activity.type not in TIMED_TYPES:
            return self.refuse(f"CEUs measure contact time; {activity.type} has none")
        s = self.settings
        minutes = self.contact_minutes(activity)
        contact = hours(minutes, s.minutes_per_hour)
        amount = to_step(contact / s.hours_per_ceu, s.step, s.rounding)
        if amount <= 0 or amount < s.minimum:
            return self.refuse(f"{minutes} minutes is under {s.minimum} CEU after rounding")
        return self.award(amount, f"{normalized(contact.quantize(Decimal('0.0001')))} contact hours / "
                                  f"{normalized(s.hours_per_ceu)}, rounded to {s.step}: {amount} CEU")

    def requirements(self) -> tuple[Requirement, ...]:
        return ()
