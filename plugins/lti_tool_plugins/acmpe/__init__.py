"""ACMPE (MGMA's certification division): CMPE and FACMPE.

Source: seed 000 (Missouri MGMA, "Activities that are eligible for credit hours"), seed 001, and
mgma.com (50 hours every three years: 30 from MGMA sources, 12 of them live).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from lti_tool.credits.api import (
    RETAKE_INTERPRETATIONS,
    Activity,
    Conversion,
    Cycle,
    FixedCycleHourlySettings,
    Holding,
    HourlyRule,
    RenewalItem,
    Requirement,
    hours,
    normalized,
    scheduled_cycle,
    to_step,
)

MGMA_NAMES = ("MGMA", "MEDICAL GROUP MANAGEMENT ASSOCIATION", "ACMPE")
"""A sponsor naming one of these is an MGMA source (MGMA, its affiliates, its certification arm)."""


@dataclass(frozen=True)
class AcmpeSettings(FixedCycleHourlySettings):
    cycle_months: int = 36
    cycle_first_start: date = date(2022, 1, 1)
    required_total: Decimal = Decimal(50)
    required_mgma: Decimal = Decimal(30)
    required_mgma_live: Decimal = Decimal(12)
    presentation_minimum_minutes: int = 30
    first_time_multiplier: Decimal = Decimal(2)
    authorship_min_hours: Decimal = Decimal(5)
    authorship_max_hours: Decimal = Decimal(50)
    editorship_hours: Decimal = Decimal(50)
    # MGMA's proration schedule (mgma.com, ACMPE tracking): what someone advanced inside a cycle
    # owes, by the half-year of the cycle they were advanced in. The first half-year owes it all.
    second_half_year_total: Decimal = Decimal(40)
    second_half_year_mgma: Decimal = Decimal(24)
    second_half_year_mgma_live: Decimal = Decimal(10)
    third_half_year_total: Decimal = Decimal(30)
    third_half_year_mgma: Decimal = Decimal(18)
    third_half_year_mgma_live: Decimal = Decimal(7)
    fourth_half_year_total: Decimal = Decimal(20)
    fourth_half_year_mgma: Decimal = Decimal(12)
    fourth_half_year_mgma_live: Decimal = Decimal(5)
    last_year_total: Decimal = Decimal(0)
    last_year_mgma: Decimal = Decimal(0)
    last_year_mgma_live: Decimal = Decimal(0)

    def proration_schedule(self) -> dict[int, tuple[tuple[str, Decimal], ...]]:
        """Half-year (1 to 5; the 6th owes what the 5th does) -> the hours due of each requirement."""
        rows = {
            1: (self.required_total, self.required_mgma, self.required_mgma_live),
            2: (self.second_half_year_total, self.second_half_year_mgma, self.second_half_year_mgma_live),
            3: (self.third_half_year_total, self.third_half_year_mgma, self.third_half_year_mgma_live),
            4: (self.fourth_half_year_total, self.fourth_half_year_mgma, self.fourth_half_year_mgma_live),
            5: (self.last_year_total, self.last_year_mgma, self.last_year_mgma_live),
        }
        return {half: tuple(zip(("total", "mgma", "mgma-live"), row, strict=True)) for half, row in rows.items()}

    def problems(self) -> list[str]:
        found = super().problems()
        if self.authorship_min_hours > self.authorship_max_hours:
            found.append("authorship_min_hours: must not exceed authorship_max_hours")
        names = {1: "required", 2: "second_half_year", 3: "third_half_year", 4: "fourth_half_year", 5: "last_year"}
        for half, row in self.proration_schedule().items():
            total, mgma, live = (amount for _, amount in row)
            if not live <= mgma <= total:
                found.append(f"{names[half]}_*: MGMA live must not exceed MGMA, nor MGMA the total")
        return found


class CmpeRule(HourlyRule):
    """Certified Medical Practice Executive: clock hours of education, by activity type."""

    credential = "acmpe-cmpe"
    body = "ACMPE"
    title = "Certified Medical Practice Executive (CMPE)"
    unit = "credit hours"
    rule_version = "acmpe-2026.1"
    source = "seed 000 (MGMA-MO: eligible activities), seed 001; mgma.com"
    settings_class = AcmpeSettings
    settings: AcmpeSettings
    cycle_kind = "fixed"
    prorates = True
    approval_code = "ACMPE"
    learner_fields = ("number",)
    replaces_interpretations = True  # ACMPE's own presentation and poster rules, not the hourly ones
    interpretations: ClassVar[tuple[str, ...]] = (
        "Education is hour-for-hour in steps of 0.25 hours, rounded down (45 minutes = 0.75).",
        "A presentation needs at least 30 minutes of one's own portion; it earns exactly that "
        "portion, twice over the first time, hour-for-hour on repeats; the doubled credit is rounded "
        "down to 0.25.",
        "A poster earns its staffed hours (staffed_minutes; else its minutes), twice over the first time.",
        "A co-presenter or panelist is credited for their own portion (own_minutes), which must be at "
        "least 30 minutes; without own_minutes the presenter gave the whole session.",
        "An assessment earns only the minutes of the assessment itself.",
        "Distance learning earns its documented pilot-study time, and only with interaction and "
        "feedback and a structured learning experience; otherwise it is refused naming what is missing.",
        "A presentation or poster is taken as given for the first time unless the mapping says it "
        "is a repeat (first_time = false).",
        "College coursework earns the hours an administrator entered; authorship 5 to 50 entered "
        "hours (outside that range refused); both in steps of 0.25, rounded down; editorship 50 hours.",
        "A sponsor whose name contains MGMA, 'Medical Group Management Association' or ACMPE (MGMA, "
        "its state and local affiliates, its certification division) is an MGMA source; an MGMA "
        "source marked live counts toward the 12 live hours.",
        "The cycle is fixed for all members (2022-01-01 to 2024-12-31, then every three years). Someone "
        "certified inside a cycle owes what MGMA's half-year proration schedule says for the half-year "
        "of the certification date (50/30/12, 40/24/10, 30/18/7, 20/12/5 total/MGMA/live, nothing in the "
        "cycle's last year), in every cycle; credit counts from the certification day. 'Any source' is "
        "the total less the MGMA hours, so it is not a requirement of its own.",
        RETAKE_INTERPRETATIONS["cycle"],
        "MGMA membership is a condition of renewal no course proves: the learner confirms it, with the "
        "date, in each cycle, and is ready to renew only once it is confirmed.",
        "Informal discussion, opening and closing remarks, business, board and committee meetings "
        "and in-house orientation are never credited.",
    )

    def convert(self, activity: Activity) -> Conversion:
        refusal = self.refusal_for_type(activity)
        if refusal is not None:
            return refusal
        handler = {
            "presentation": self._presentation,
            "poster": self._poster,
            "distance": self._distance,
            "college": self._college,
            "authorship": self._authorship,
            "editorship": self._editorship,
        }.get(activity.type)
        if handler is not None:
            return handler(activity)
        if activity.minutes <= 0:
            return self.refuse("no contact time")
        return self.by_minutes(activity, activity.minutes)

    def _presentation(self, activity: Activity) -> Conversion:
        least = self.settings.presentation_minimum_minutes
        minutes = self.contact_minutes(activity)
        portion = activity.own_minutes is not None
        if minutes < least:
            what = "one's own portion of a presentation" if portion else "a presentation"
            return self.refuse(f"{what} earns credit only from {least} minutes; this one is {minutes}")
        return self._doubled_first_time(activity, minutes,
                                        "presentation (own portion)" if portion else "presentation")

    def _poster(self, activity: Activity) -> Conversion:
        minutes = self.contact_minutes(activity)
        if minutes <= 0:
            return self.refuse("a poster earns only the hours its author staffed it; none were given")
        return self._doubled_first_time(activity, minutes, "poster (staffed hours)")

    def _doubled_first_time(self, activity: Activity, minutes: int, what: str) -> Conversion:
        factor = self.settings.first_time_multiplier if activity.first_time else Decimal(1)
        amount = to_step(hours(minutes) * factor, self.settings.step, self.settings.rounding)
        if amount <= 0:
            return self.refuse(f"{minutes} minutes earns less than {self.settings.step} {self.unit}")
        when = f"first time, {normalized(factor)} hours per hour" if activity.first_time else "repeat, hour-for-hour"
        return self.credited(activity, amount, f"{what}: {minutes} min, {when}: {amount} {self.unit}")

    def _distance(self, activity: Activity) -> Conversion:
        missing = []
        if not activity.offers_interaction:
            missing.append("an opportunity for interaction and feedback")
        if not activity.structured:
            missing.append("a structured learning experience")
        if not activity.pilot_minutes:
            missing.append("a documented pilot-study time estimate")
        if missing:
            return self.refuse(f"distance learning qualifies for ACMPE only with {', '.join(missing)}")
        assert activity.pilot_minutes is not None
        return self.by_minutes(activity, activity.pilot_minutes)

    def _college(self, activity: Activity) -> Conversion:
        if activity.hours is None or activity.hours <= 0:
            return self.refuse("college coursework earns the hours an administrator enters; none were entered")
        amount = to_step(activity.hours, self.settings.step, "down")
        if amount <= 0:
            return self.refuse(f"{normalized(activity.hours)} hours entered is under one step of {self.settings.step}")
        return self.credited(activity, amount, f"college coursework: {amount} hours entered")

    def _authorship(self, activity: Activity) -> Conversion:
        low, high = self.settings.authorship_min_hours, self.settings.authorship_max_hours
        if activity.hours is None or not low <= activity.hours <= high:
            given = "none" if activity.hours is None else normalized(activity.hours)
            return self.refuse(f"authorship earns {low} to {high} hours entered by an administrator; given {given}")
        amount = to_step(activity.hours, self.settings.step, "down")
        return self.credited(activity, amount, f"authorship: {amount} hours entered")

    def _editorship(self, activity: Activity) -> Conversion:
        amount = normalized(self.settings.editorship_hours)
        return self.credited(activity, amount, f"editorship of a published book: {amount} hours")

    def renewal_items(self) -> tuple[RenewalItem, ...]:
        return (RenewalItem("mgma-membership", "MGMA membership", "membership"),)

    def cycle(self, holding: Holding, on: date) -> Cycle:
        s = self.settings
        return scheduled_cycle(s.cycle_first_start, s.cycle_months, holding, on, s.proration_schedule())

    def tags_for(self, activity: Activity) -> set[str]:
        tags = super().tags_for(activity)
        if activity.sponsor and any(name in activity.sponsor.upper() for name in MGMA_NAMES):
            tags.add("mgma")
            if activity.live:
                tags.add("mgma-live")
        return tags

    def requirements(self) -> tuple[Requirement, ...]:
        s = self.settings
        return (
            Requirement("total", "total", s.required_total),
            Requirement("mgma", "from MGMA sources", s.required_mgma, tag="mgma"),
            Requirement("mgma-live", "MGMA live", s.required_mgma_live, tag="mgma-live"),
        )


@dataclass(frozen=True)
class FacmpeSettings(AcmpeSettings):
    volunteer_hours: Decimal = Decimal(6)
    """Hours of volunteer service every three years (mgma.com)."""


class FacmpeRule(CmpeRule):
    """Fellow of ACMPE: the same rules and the same 50 hours in three years."""

    credential = "acmpe-facmpe"
    settings_class = FacmpeSettings
    settings: FacmpeSettings
    interpretations = (
        "FACMPE keeps CMPE's 30 hours from MGMA sources and 12 MGMA live within its 50 (the digest "
        "says only 'same 50 in three years'; MGMA applies one continuing-education policy to both).",
        "Six hours of volunteer service in the cycle are a condition of renewal, not credit: the learner "
        "confirms them with the date and the hours (several confirmations add up), and is ready to "
        "renew only with the six confirmed in the cycle.",
    )

    def renewal_items(self) -> tuple[RenewalItem, ...]:
        return (*super().renewal_items(),
                RenewalItem("volunteer-service", "volunteer service", "volunteer_hours",
                            self.settings.volunteer_hours))
    title = "Fellow of the American College of Medical Practice Executives (FACMPE)"
