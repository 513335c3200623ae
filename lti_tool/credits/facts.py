"""The frozen dataclasses a provider plugin receives and returns.

Plugin authors import them from :mod:`lti_tool.credits.api`, which also holds the rule base class.
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
    own_minutes: int | None = None
    """A co-presenter's or panelist's own portion of a presentation, in minutes (what is credited);
    ``None``: the presenter gave all of ``minutes``."""
    staffed_minutes: int | None = None
    """A poster: the minutes its author staffed it (what is credited); ``None``: ``minutes``."""


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
    course_key: str | None = None
    """The course as the body identifies it (its index number, for AAPC), as stored with the award;
    ``None``: the LMS course."""
    self_reported: bool = False
    """Credit earned outside the LMS that no administrator has verified yet."""


@dataclass(frozen=True)
class Holding:
    """A credential a learner holds."""

    credential: str
    certified_on: date | None = None
    cycle_start: date | None = None
    number: str | None = None


@dataclass(frozen=True)
class Requirement:
    """One thing a learner must earn (a minimum) or may count only so far (a cap) in a cycle.

    An award counts toward a requirement when it matches every filter given: ``category`` (the
    award's category), ``tag`` (one of the award's tags). A requirement with no filter is the total.
    """

    id: str
    label: str
    amount: Decimal
    kind: Literal["minimum", "cap"] = "minimum"
    category: str | None = None
    tag: str | None = None

    def matches(self, credit: EarnedCredit) -> bool:
        if self.category is not None and credit.category != self.category:
            return False
        return self.tag is None or self.tag in credit.tags


@dataclass(frozen=True)
class Cycle:
    """The renewal cycle a learner is in on a given day (both ends inclusive)."""

    start: date
    end: date
    counts_from: date
    """The first day whose credit counts: the start, or a later certification day when prorated."""
    months_due: int | None = None
    """When prorated: the whole months due of the cycle's ``months``; ``None`` owes all of it."""
    months: int = 1
    due: tuple[tuple[str, Decimal], ...] | None = None
    """When prorated by a published schedule: the amount due of each requirement, by id (a
    requirement not named is due in full); overrides ``months_due``."""
    note: str | None = None

    @property
    def prorated(self) -> bool:
        return self.months_due is not None or self.due is not None


RenewalItemKind = Literal["fee", "membership", "volunteer_hours"]


@dataclass(frozen=True)
class RenewalItem:
    """A condition of renewal that no course completion proves (a fee, a membership, volunteer
    service): the learner confirms it, with the date, once in each cycle."""

    id: str
    """Stable id used by the CLI and the database, e.g. ``"annual-fee"``."""
    title: str
    kind: RenewalItemKind
    amount: Decimal | None = None
    """What must be confirmed in the cycle, for an item measured in hours (volunteer service)."""


@dataclass(frozen=True)
class Confirmation:
    """A learner's confirmation of a renewal item on a day (with the hours, for volunteer service)."""

    credential: str
    item: str
    confirmed_on: date
    amount: Decimal | None = None


@dataclass(frozen=True)
class ItemProgress:
    id: str
    title: str
    kind: str
    confirmed_on: date | None
    """The latest confirmation in the cycle (up to the day measured); ``None``: not confirmed."""
    met: bool
    amount: Decimal | None = None
    """For an item with an amount: what is due in the cycle."""
    confirmed_amount: Decimal | None = None
    """For an item with an amount: what was confirmed in the cycle."""


@dataclass(frozen=True)
class RequirementProgress:
    id: str
    label: str
    kind: str
    earned: Decimal
    """What counts toward it (for a cap: what counted, at most the cap)."""
    required: Decimal
    """The minimum due (for a cap: the cap)."""
    met: bool
    not_counted: Decimal = Decimal(0)
    """For a cap: what was earned beyond it and does not count."""


@dataclass(frozen=True)
class Progress:
    """How far a learner is from renewing one credential, on one day."""

    credential: str
    unit: str
    on: date
    cycle_start: date | None
    cycle_end: date | None
    earned: Decimal
    required: Decimal
    met: bool
    requirements: tuple[RequirementProgress, ...] = ()
    missing: tuple[str, ...] = ()
    """One line a learner can act on per requirement not met yet."""
    prorated: bool = False
    note: str | None = None
    items: tuple[ItemProgress, ...] = ()
    """The renewal items that are not credit (fees, memberships, volunteer hours) in this cycle."""
    ready: bool = False
    """Ready to renew: every credit minimum met and every item confirmed."""
    self_reported: Decimal = Decimal(0)
    """Of what counts, the outside credit not verified yet (shown as such; bodies audit it)."""
