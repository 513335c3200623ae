"""Retakes: when completing a course again earns a credential's credit again.

Offices run the same compliance courses every year, so a course completed again in a later cycle
of a credential earns that credential's credit again; within one cycle it earns it at most once.
A rule declares its policy (:attr:`CreditRule.repeat_policy`), and each award is stored with the
key of that policy: *which course* (:attr:`RepeatKey.course`) and *which period*
(:attr:`RepeatKey.period`). The database's unique constraint on the learner, the credential, the
course, the period and the award's revision enforces it; nothing checks before inserting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from lti_tool.credits.facts import Cycle

RepeatPolicy = Literal["cycle", "ever", "calendar_year"]
"""``cycle``: once per course per renewal cycle; ``ever``: once per course, whatever the cycle
(AAPC's "a course counts once"); ``calendar_year``: once per course per calendar year (a body
without cycles)."""

REPEAT_POLICIES: tuple[str, ...] = RepeatPolicy.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RepeatKey:
    """What makes a second award of a course to a learner a repeat of the first."""

    course: str
    """The course as the body identifies it: ``course:<LMS course id>`` or ``index:<index number>``."""
    period: str
    """``cycle:<first day>``, ``year:<YYYY>``, ``ever``, or ``unanchored`` (a cycle that runs from a
    certification date not recorded yet)."""
    label: str
    """The period as a learner reads it: ``2025-01-01..2027-12-31``, ``calendar year 2026``, ``ever``."""


def course_key(course_id: str, index_number: str | None = None) -> str:
    """The course by the body's index number where it has one, else by the LMS course."""
    return f"index:{index_number}" if index_number else f"course:{course_id}"


def period_key(policy: str, cycle: Cycle | None, on: date) -> tuple[str, str]:
    """The period (key, label) a credit earned on ``on`` falls in under ``policy``.

    A cycle that cannot be known (it runs from a certification date not recorded yet) is one
    period, ``unanchored``, until the date is recorded: a retake then is not credited again (a
    guessed cycle could credit a course several times in one real cycle and send the body the
    same course twice). Progress asks for the date meanwhile, and counts a course once per cycle.
    """
    if policy == "ever":
        return "ever", "ever"
    if policy == "cycle":
        if cycle is None:
            return "unanchored", "unknown until the certification date is recorded"
        return f"cycle:{cycle.start.isoformat()}", f"{cycle.start.isoformat()}..{cycle.end.isoformat()}"
    return f"year:{on.year}", f"calendar year {on.year}"


RETAKE_INTERPRETATIONS: dict[str, str] = {
    "cycle": "The same completion delivered again (a re-sent or re-fired event, a second source) never "
             "credits twice; a course completed again earns credit again in a later cycle, at most once "
             "per course per cycle (a retake in the same cycle is answered 'already credited this cycle'). "
             "Until a cycle's certification date is recorded the cycle is unknown and a retake is not "
             "credited again.",
    "ever": "A course counts once ever, identified by its AAPC index number where it has one (the same "
            "indexed course offered as two LMS courses counts once), else by the LMS course.",
    "calendar_year": "With no renewal cycle, each completion of a course is credited once per calendar "
                     "year; the same completion delivered again never twice.",
}
"""The line each plugin states among its interpretations for its retake policy."""
