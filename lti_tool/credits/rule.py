"""The provider-plugin base class: one subclass per credential."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from lti_tool.credits import cycles
from lti_tool.credits.facts import (
    NEVER_CREDITED,
    Activity,
    Award,
    Confirmation,
    Conversion,
    Cycle,
    EarnedCredit,
    Holding,
    Progress,
    Refusal,
    RenewalItem,
    Requirement,
)
from lti_tool.credits.progress import measure
from lti_tool.credits.repeats import RepeatKey, RepeatPolicy, course_key, period_key
from lti_tool.credits.settings import RuleSettings, snapshot

CycleKind = Literal["fixed", "certification", "none"]

NEVER_CREDITED_NAMES = {
    "informal_discussion": "informal discussion sessions",
    "opening_remarks": "opening and closing remarks",
    "business_meeting": "business meetings",
    "committee_meeting": "board and committee meetings",
    "orientation": "in-house meetings such as orientation sessions",
}


@dataclass(frozen=True)
class CycleSettings(RuleSettings):
    """Settings every rule with a renewal cycle has."""

    cycle_months: int = 12
    required_total: Decimal = Decimal(0)

    def problems(self) -> list[str]:
        return ["cycle_months: must be at least 1"] if self.cycle_months < 1 else []


@dataclass(frozen=True)
class FixedCycleSettings(CycleSettings):
    """Settings of a rule whose cycle is a calendar cycle shared by all members (``cycle_kind =
    "fixed"``): when the first cycle started. The field has no default here, so a fixed-cycle rule
    must give the body's date in its own settings, and discovery refuses one that does not."""

    cycle_first_start: date = field(kw_only=True)


class CreditRule(ABC):
    """Converts contact time into one credential's credit and measures renewal progress.

    A subclass sets the class attributes named in :attr:`REQUIRED_ATTRIBUTES` and implements
    :meth:`convert` and :meth:`requirements`. It is pure: no I/O, no clock, no Flask or SQLAlchemy;
    the same activity always gives the same answer. Amounts are :class:`~decimal.Decimal`.
    """

    REQUIRED_ATTRIBUTES: ClassVar[tuple[str, ...]] = (
        "credential", "body", "title", "unit", "rule_version", "source", "settings_class", "cycle_kind",
    )

    credential: ClassVar[str]
    """Stable id used in config, the CLI, the database and exports, e.g. ``"acmss-cmss"``."""
    body: ClassVar[str]
    """The certifying body, e.g. ``"ACMSS"``."""
    title: ClassVar[str]
    """The credential's name, e.g. ``"Certified Medical Support Specialist"``."""
    unit: ClassVar[str]
    """What the body calls its credit: ``"CME hours"``, ``"CEUs"``, ``"recertification points"``."""
    rule_version: ClassVar[str]
    """Changes whenever the rule's logic changes; stored with every award."""
    source: ClassVar[str]
    """Where the rule is published (seed document, body's site)."""
    settings_class: ClassVar[type[RuleSettings]]
    """The frozen dataclass of the rule's numbers, with the body's published values as defaults."""
    cycle_kind: ClassVar[CycleKind]
    """``fixed`` (a calendar cycle shared by all members, from ``settings.cycle_first_start``),
    ``certification`` (runs from each learner's certification date) or ``none``."""

    interpretations: ClassVar[tuple[str, ...]] = ()
    """Every decision the rule makes where the body's text is silent or ambiguous. A subclass
    states its own; those of the classes it extends (e.g. :class:`~lti_tool.credits.api.HourlyRule`'s
    shared hourly ones) follow them by inheritance, never copied (see :meth:`__init_subclass__`)."""
    replaces_interpretations: ClassVar[bool] = False
    """The class's own ``interpretations`` replace the inherited ones instead of preceding them (a
    rule that extends :class:`~lti_tool.credits.api.HourlyRule` but decides differently)."""
    approval_code: ClassVar[str | None] = None
    """How ``Activity.approved_by`` names this body's approval (``"AAMA"``)."""
    categories: ClassVar[tuple[str, ...]] = ()
    """The categories the body knows; an activity's other categories are not recorded for it."""
    learner_fields: ClassVar[tuple[str, ...]] = ()
    """What a claim needs of the learner: ``"number"`` (member or licence number)."""
    export_format: ClassVar[str] = "statement"
    """The exporter a claim for this credential is rendered with by default."""
    prorates: ClassVar[bool] = False
    """A fixed cycle's requirements are prorated for someone certified inside it."""
    course_counts_once: ClassVar[bool] = False
    """A course counts once **ever** (AAPC), identified by the body's index number where it has one."""
    repeat_policy: ClassVar[RepeatPolicy | None] = None
    """When a retake earns again (:mod:`lti_tool.credits.repeats`); ``None`` decides from the rule:
    ``ever`` when :attr:`course_counts_once`, else ``cycle``, or ``calendar_year`` with no cycle."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        """A class's own ``interpretations`` first, then those it inherits (each once)."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("interpretations")
        if own is not None and not cls.__dict__.get("replaces_interpretations", False):
            inherited = tuple(i for base in cls.__bases__ for i in getattr(base, "interpretations", ()))
            cls.interpretations = tuple(dict.fromkeys((*own, *inherited)))

    def __init__(self, settings: RuleSettings | None = None) -> None:
        self.settings = settings if settings is not None else self.settings_class()

    @abstractmethod
    def convert(self, activity: Activity) -> Conversion:
        """Contact time plus the activity's facts into an :class:`Award` or a :class:`Refusal`."""

    @abstractmethod
    def requirements(self) -> tuple[Requirement, ...]:
        """What renewal needs in one cycle, the total (id ``"total"``) first; empty with no cycle."""

    def cycle(self, holding: Holding, on: date) -> Cycle | None:
        """The renewal cycle ``holding`` is in on ``on``; ``None`` for a credential with no cycle, or
        one that runs from a certification date not recorded yet."""
        months = int(getattr(self.settings, "cycle_months", 0))
        if self.cycle_kind == "fixed":
            first = self._fixed_settings().cycle_first_start
            if self.prorates:
                return cycles.prorated_cycle(first, months, holding, on)
            return cycles.fixed_cycle(first, months, on)
        if self.cycle_kind == "certification":
            return cycles.anniversary_cycle(months, holding, on)
        return None

    def effective_repeat_policy(self) -> RepeatPolicy:
        if self.repeat_policy is not None:
            return self.repeat_policy
        if self.course_counts_once:
            return "ever"
        return "calendar_year" if self.cycle_kind == "none" else "cycle"

    def repeat_key(self, course_id: str, award: Award, holding: Holding, on: date) -> RepeatKey:
        """The key under which an award earned on ``on`` for ``course_id`` is unique: at most one
        award per learner, credential and key (see :mod:`lti_tool.credits.repeats`)."""
        policy = self.effective_repeat_policy()
        course = course_key(course_id, award.index_number if self.course_counts_once else None)
        period, label = period_key(policy, self.cycle(holding, on) if policy == "cycle" else None, on)
        return RepeatKey(course=course, period=period, label=label)

    def renewal_items(self) -> tuple[RenewalItem, ...]:
        """What renewal needs besides credit (fees, memberships, volunteer hours); none by default."""
        return ()

    def progress(self, earned: Sequence[EarnedCredit], holding: Holding, on: date,
                 confirmations: Sequence[Confirmation] = ()) -> Progress:
        """A learner's awards (and confirmed renewal items) for this credential → what is met and
        what is missing, by when; ready to renew only with every item confirmed too."""
        return measure(self, earned, holding, on, confirmations)

    def settings_snapshot(self) -> dict[str, str]:
        """The effective settings as text, stored with every award."""
        return snapshot(self.settings)

    def describe_cycle(self) -> str:
        months = getattr(self.settings, "cycle_months", None)
        if self.cycle_kind == "fixed":
            first = self._fixed_settings().cycle_first_start
            return f"{months} months, a fixed calendar cycle from {first.isoformat()}"
        if self.cycle_kind == "certification":
            return f"{months} months from the certification date"
        return "none"

    def _fixed_settings(self) -> FixedCycleSettings:
        if not isinstance(self.settings, FixedCycleSettings):
            raise TypeError(f"{self.credential}: a fixed cycle needs FixedCycleSettings, not "
                            f"{type(self.settings).__name__}")
        return self.settings

    # Helpers for subclasses -------------------------------------------------------------------

    def award(self, amount: Decimal, reason: str, *, category: str | None = None,
              index_number: str | None = None, tags: Iterable[str] = ()) -> Award:
        return Award(credential=self.credential, amount=amount, unit=self.unit, reason=reason,
                     category=category, index_number=index_number, tags=frozenset(tags))

    def refuse(self, reason: str) -> Refusal:
        return Refusal(credential=self.credential, reason=reason)

    def refusal_for_type(self, activity: Activity) -> Refusal | None:
        """The refusal of an activity type no body credits, or ``None``."""
        if activity.type in NEVER_CREDITED:
            return self.refuse(f"{self.body} assigns no credit to {NEVER_CREDITED_NAMES[activity.type]}")
        return None

    credits_authorship: ClassVar[bool] = False
    """Authorship of a published article earns the hours an administrator enters, as contact hours
    (seed 003, for medical assistants); otherwise it has no contact time and is refused."""

    def contact_minutes(self, activity: Activity) -> int:
        """Minutes of instruction: a co-presenter's own portion, a poster's staffed time; college
        coursework (and credited authorship) the hours an administrator entered."""
        entered = activity.type == "college" or (activity.type == "authorship" and self.credits_authorship)
        if entered and activity.hours is not None:
            return int(activity.hours * 60)
        if activity.type == "presentation" and activity.own_minutes is not None:
            return activity.own_minutes
        if activity.type == "poster" and activity.staffed_minutes is not None:
            return activity.staffed_minutes
        return activity.minutes

    def approved(self, activity: Activity) -> bool:
        return self.approval_code is not None and self.approval_code in activity.approved_by

    def category_of(self, activity: Activity) -> str | None:
        return activity.category if activity.category in self.categories else None

    def index_number_of(self, activity: Activity) -> str | None:
        """The activity's index number, when it is this body's (the body approved the activity)."""
        return activity.index_number if self.approved(activity) else None
