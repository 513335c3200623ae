"""ACMSS: Certified Medical Support Specialist (CMSS) CME.

Source: seed 002 (ACMSS/CMS CME table with index numbers; 3 hours of CME in one year; licence
number and proof of contact hours remitted to ACMSS Licensing Services).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lti_tool.credits.api import (
    RETAKE_INTERPRETATIONS,
    TIMED_TYPES,
    Activity,
    Conversion,
    CreditRule,
    CycleSettings,
    RenewalItem,
    Requirement,
    normalized,
)

# Rows of the published table: (steps of 30 minutes, what the row says, index number).
TABLE = {
    1: ("less than 30 minutes", "CMS06140727A"),
    2: ("over 30 up to 60 minutes", "CMS06140728A"),
    3: ("over 60 up to 90 minutes", "CMS06140729A"),
    4: ("over 90 up to 120 minutes", "CMS06140730A"),
}


@dataclass(frozen=True)
class AcmssSettings(CycleSettings):
    cycle_months: int = 12
    required_total: Decimal = Decimal(3)
    step_minutes: int = 30
    """Each started step of this many minutes earns ``credit_per_step``."""
    credit_per_step: Decimal = Decimal("0.5")
    table_max_minutes: int = 120
    """Longer trainings are beyond the published table: no index number."""

    def problems(self) -> list[str]:
        found = super().problems()
        if self.step_minutes < 1:
            found.append("step_minutes: must be at least 1")
        if self.credit_per_step <= 0:
            found.append("credit_per_step: must be more than 0")
        return found


class CmssRule(CreditRule):
    """CME by training length, per the ACMSS table; each row has its index number."""

    credential = "acmss-cmss"
    body = "ACMSS"
    title = "Certified Medical Support Specialist (CMSS)"
    unit = "CME hours"
    rule_version = "acmss-2026.1"
    source = "seed 002 (ACMSS/CMS Continuing Medical Education table)"
    settings_class = AcmssSettings
    settings: AcmssSettings
    cycle_kind = "certification"
    learner_fields = ("number",)
    export_format = "acmss-remittance"
    interpretations = (
        "Exactly 30 minutes is in the first row (0.5 CME); 60, 90 and 120 minutes likewise belong "
        "to the row they end.",
        "Zero minutes is refused.",
        "College coursework counts the hours an administrator entered, as minutes of training.",
        "Index numbers are attached only while the table's numbers (30-minute steps of 0.5) are the "
        "published ones; an override of them drops the index numbers.",
        "Over 120 minutes: each started half hour adds 0.5 CME, with no index number and the note "
        "'beyond the published table'.",
        "The year of CME runs from the learner's certification (licensing) date.",
        "A claim needs the learner's CMSS licence number; it is remitted by e-mail with the proof.",
        RETAKE_INTERPRETATIONS["cycle"],
        "ACMSS's annual licensing fee is a condition of renewal no course proves: the learner confirms it, "
        "with the date, "
        "in each cycle, and is ready to renew only once it is confirmed.",
    )

    def convert(self, activity: Activity) -> Conversion:
        refusal = self.refusal_for_type(activity)
        if refusal is not None:
            return refusal
        if activity.type not in TIMED_TYPES:
            return self.refuse(f"ACMSS credits training time; {activity.type} has none")
        minutes = self.contact_minutes(activity)
        if minutes <= 0:
            return self.refuse("zero minutes: there is no training time to credit")
        s = self.settings
        steps = -(-minutes // s.step_minutes)
        amount = normalized(steps * s.credit_per_step)
        published = s.step_minutes == 30 and s.credit_per_step == Decimal("0.5")
        row = TABLE.get(steps) if published and minutes <= s.table_max_minutes else None
        if row is None:
            return self.award(amount, f"{minutes} min is beyond the published table: each started "
                                      f"half hour adds {normalized(s.credit_per_step)}: {amount} CME")
        label, index_number = row
        exactly = " (exactly 30 minutes: the first row, by decision)" if minutes == 30 else ""
        return self.award(amount, f"{minutes} min: table row '{label}'{exactly}: {amount} CME",
                          index_number=index_number)

    def renewal_items(self) -> tuple[RenewalItem, ...]:
        return (RenewalItem("annual-fee", "the annual licensing fee", "fee"),)

    def requirements(self) -> tuple[Requirement, ...]:
        return (Requirement("total", "CME in one year", self.settings.required_total),)
