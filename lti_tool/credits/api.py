"""The provider-plugin interface.

A provider plugin turns contact time into one credential's credit, the way its certifying body's
published rule says, and tells how far a learner is from renewing. It receives frozen dataclasses
and returns frozen dataclasses; it never imports Flask or SQLAlchemy, never reads files or the
clock, and gives the same answer for the same input. Amounts are :class:`decimal.Decimal`.

Plugins are found through the entry-point group ``lti_tool.credit_rules``; each entry point names a
:class:`CreditRule` subclass, one class per credential id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

ActivityType = Literal[
    "education",
    "distance",
    "college",
    "authorship",
    "editorship",
    "presentation",
    "poster",
    "assessment",
    "informal_discussion",
    "opening_remarks",
    "business_meeting",
    "committee_meeting",
    "orientation",
]

ACTIVITY_TYPES: tuple[str, ...] = ActivityType.__args__  # type: ignore[attr-defined]

NEVER_CREDITED: frozenset[str] = frozenset(
    {"informal_discussion", "opening_remarks", "business_meeting", "committee_meeting", "orientation"}
)


@dataclass(frozen=True)
class Activity:
    """What a learner did, as the course mapping (and the LMS event) describe it."""

    minutes: int
    """Contact minutes: wall-clock minutes of instruction (or of one's own presentation portion)."""
    type: str = "education"
    first_time: bool = True
    """For presentations and posters: the first time this one is given."""
    category: str | None = None
    """Body-specific category: AAMA administrative/clinical/general, PMI core, AAPC practice-management."""
    sponsor: str | None = None
    """Who offered the program, e.g. "MGMA" (an MGMA source for ACMPE)."""
    live: bool = False
    approved_by: frozenset[str] = field(default_factory=frozenset)
    """Bodies that approved the program, upper case: {"AAMA"}, {"PAHCOM"}, {"AAPC"} …"""
    index_number: str | None = None
    pilot_minutes: int | None = None
    """Distance learning: the documented pilot-study estimate of time to complete."""
    offers_interaction: bool = False
    """Distance learning: the program offers interaction and feedback."""
    structured: bool = False
    """Distance learning: a structured learning experience."""
    hours: Decimal | None = None
    """Hours entered by an administrator (college coursework, authorship)."""
    cpr_card: bool = False


@dataclass(frozen=True)
class Award:
    """Credit granted for one activity toward one credential."""

    credential: str
    amount: Decimal
    unit: str
    reason: str
    """One line a person can read: how the amount was reached."""
    category: str | None = None
    index_number: str | None = None
    tags: frozenset[str] = field(default_factory=frozenset)
    """Facts progress needs later, e.g. {"mgma", "live"}, {"aama-approved"}, {"cpr-card"}."""


@dataclass(frozen=True)
class Refusal:
    """No credit, and why."""

    credential: str
    reason: str


Conversion = Award | Refusal


@dataclass(frozen=True)
class EarnedCredit:
    """An award as renewal progress sees it (reversed awards are left out by the caller)."""

    credential: str
    amount: Decimal
    earned_on: date
    course_id: str
    category: str | None = None
    tags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Holding:
    """A credential a learner holds."""

    credential: str
    certified_on: date | None = None
    cycle_start: date | None = None
    number: str | None = None
