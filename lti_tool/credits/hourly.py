"""The common shape of a body's rule: one unit per so many contact minutes, in steps, rounded.

Most bodies publish only "N CEUs every M years"; for them the digest decides one unit per 60
minutes in steps of 0.25, rounded down. A subclass names the body and its numbers, and may add
categories, tags and requirements.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from lti_tool.credits.facts import Activity, Award, Conversion, Requirement
from lti_tool.credits.rounding import ROUNDING_MODES, hours, normalized, to_step
from lti_tool.credits.rule import CreditRule, CycleSettings, FixedCycleSettings

TIMED_TYPES = frozenset({"education", "distance", "assessment", "presentation", "poster", "college"})


@dataclass(frozen=True)
class HourlySettings(CycleSettings):
    minutes_per_unit: int = 60
    """Contact minutes that earn one unit."""
    step: Decimal = Decimal("0.25")
    """Credit is a whole number of steps."""
    rounding: str = "down"
    """down | half_up | up"""
    minimum: Decimal = Decimal(0)
    """Credit below this (after rounding) is refused."""

    def problems(self) -> list[str]:
        found = super().problems()
        if self.minutes_per_unit < 1:
            found.append("minutes_per_unit: must be at least 1")
        if self.step <= 0:
            found.append("step: must be more than 0")
        if self.rounding not in ROUNDING_MODES:
            found.append(f"rounding: {self.rounding!r} is not one of {', '.join(ROUNDING_MODES)}")
        return found


@dataclass(frozen=True)
class FixedCycleHourlySettings(HourlySettings, FixedCycleSettings):
    """:class:`HourlySettings` of a rule with a fixed calendar cycle (``cycle_first_start``)."""


class HourlyRule(CreditRule):
    """Credits the time-based activity types by contact minutes; refuses the rest with a reason."""

    settings_class: ClassVar[type[HourlySettings]] = HourlySettings
    settings: HourlySettings

    _TIMED = ("Time-based activities (education, distance, assessment, presentation, poster) earn credit "
              "for their contact minutes; college coursework for the hours an administrator entered "
              "(or its minutes).")
    _PRESENTATIONS = ("A presentation or poster earns its contact time like any other session, first time or "
                      "repeat: a co-presenter's own portion (own_minutes), a poster's staffed time "
                      "(staffed_minutes) when given.")
    _NEVER = ("Informal discussion, opening remarks, business and committee meetings and orientation "
              "are never credited.")
    _AUTHORSHIP_REFUSED = "Authorship and editorship have no contact time and are refused: claim them with the body."
    _AUTHORSHIP_CREDITED = (
        "Authorship of a published article (research, an article in a relevant journal; seed 003) earns "
        "the hours an administrator enters, converted as contact hours; without entered hours it is "
        "refused. Editorship has no contact time and is refused: claim it with the body.")
    HOURLY_INTERPRETATIONS: ClassVar[tuple[str, ...]] = (_TIMED, _AUTHORSHIP_REFUSED, _PRESENTATIONS, _NEVER)
    AUTHORSHIP_INTERPRETATIONS: ClassVar[tuple[str, ...]] = (_TIMED, _AUTHORSHIP_CREDITED, _PRESENTATIONS, _NEVER)
    """What a rule that credits authorship (:attr:`credits_authorship`, the medical-assistant bodies,
    seed 003) inherits instead of :attr:`HOURLY_INTERPRETATIONS`."""
    interpretations = HOURLY_INTERPRETATIONS
    """Every hourly rule inherits these after its own (:meth:`CreditRule.__init_subclass__`); one that
    credits authorship inherits :attr:`AUTHORSHIP_INTERPRETATIONS` instead."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.credits_authorship and not cls.__dict__.get("replaces_interpretations", False):
            cls.interpretations = tuple(dict.fromkeys(
                cls._AUTHORSHIP_CREDITED if line == cls._AUTHORSHIP_REFUSED else line for line in cls.interpretations))

    def convert(self, activity: Activity) -> Conversion:
        refusal = self.refusal_for_type(activity)
        if refusal is not None:
            return refusal
        if activity.type == "authorship" and self.credits_authorship:
            if activity.hours is None or activity.hours <= 0:
                return self.refuse("authorship earns the hours an administrator enters; none were entered")
            return self.by_minutes(activity, self.contact_minutes(activity))
        if activity.type not in TIMED_TYPES:
            return self.refuse(
                f"{self.body} credits contact time; {activity.type} has none, claim it with {self.body} directly"
            )
        minutes = self.contact_minutes(activity)
        if minutes <= 0:
            return self.refuse("no contact time")
        return self.by_minutes(activity, minutes)

    def by_minutes(self, activity: Activity, minutes: int, *, per_unit: int | None = None) -> Conversion:
        s = self.settings
        per_unit = per_unit or s.minutes_per_unit
        amount = to_step(hours(minutes, per_unit), s.step, s.rounding)
        if amount <= 0 or amount < s.minimum:
            return self.refuse(
                f"{minutes} minutes earns less than {max(s.minimum, s.step)} {self.unit} "
                f"(one per {per_unit} minutes, in steps of {s.step})"
            )
        return self.credited(activity, amount, f"{minutes} min / {per_unit} = "
                             f"{normalized(hours(minutes, per_unit).quantize(Decimal('0.0001')))}, "
                             f"rounded {s.rounding.replace('_', ' ')} to steps of {s.step}: {amount} {self.unit}")

    def credited(self, activity: Activity, amount: Decimal, reason: str) -> Award:
        return self.award(amount, reason, category=self.category_of(activity),
                          index_number=self.index_number_of(activity), tags=self.tags_for(activity))

    def tags_for(self, activity: Activity) -> set[str]:
        """Facts progress needs later; by default whether this body approved the activity."""
        tags = set()
        if self.approved(activity):
            tags.add("approved")
        if activity.live:
            tags.add("live")
        return tags

    def requirements(self) -> tuple[Requirement, ...]:
        return (Requirement("total", "total", self.settings.required_total),)
