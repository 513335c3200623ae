"""Renewal progress: a pure function over a learner's awards for one credential.

It counts the awards inside the cycle (from the cycle's counting day to the earlier of its end and
the day measured), applies caps first (earliest awards count first), then sums what counts toward
each requirement. Nothing carries over from another cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from lti_tool.credits.facts import (
    Confirmation,
    Cycle,
    EarnedCredit,
    Holding,
    Progress,
    Requirement,
    RequirementProgress,
)
from lti_tool.credits.items import measure_items
from lti_tool.credits.rounding import normalized, to_step

if TYPE_CHECKING:
    from lti_tool.credits.rule import CreditRule

PRORATION_STEP = Decimal(1)
"""A prorated requirement is rounded up to a whole unit."""


def measure(rule: CreditRule, earned: Sequence[EarnedCredit], holding: Holding, on: date,
            confirmations: Sequence[Confirmation] = ()) -> Progress:
    cycle = rule.cycle(holding, on)
    mine = [e for e in earned if e.credential == rule.credential and e.earned_on <= on]
    items = measure_items(rule.renewal_items(), [c for c in confirmations if c.credential == rule.credential],
                          cycle, on)
    if cycle is None:
        total = normalized(sum((e.amount for e in mine), Decimal(0)))
        unverified = normalized(sum((e.amount for e in mine if e.self_reported), Decimal(0)))
        if rule.cycle_kind == "none":
            return Progress(credential=rule.credential, unit=rule.unit, on=on, cycle_start=None,
                            cycle_end=None, earned=total, required=Decimal(0), met=True,
                            note="no renewal cycle: credit accumulates", items=items,
                            ready=all(i.met for i in items), self_reported=unverified)
        needed = next((r.amount for r in rule.requirements() if r.id == "total"), Decimal(0))
        return Progress(
            credential=rule.credential, unit=rule.unit, on=on, cycle_start=None, cycle_end=None,
            earned=total, required=normalized(needed), met=False,
            missing=(f"record the certification date (or cycle start) of {rule.credential} "
                     "to measure renewal progress",),
            note="the cycle runs from the certification date, which is not recorded", items=items,
            self_reported=unverified,
        )
    window = sorted(
        (e for e in mine if cycle.counts_from <= e.earned_on <= cycle.end),
        key=lambda e: (e.earned_on, e.course_id),
    )
    if rule.effective_repeat_policy() == "ever":  # AAPC: a course credited in an earlier cycle counts no more
        before = {_key(e) for e in mine if e.earned_on < cycle.counts_from}
        window = [e for e in window if _key(e) not in before]
    window = _first_per_course(window)
    requirements = rule.requirements()
    counted, excess = _apply_caps(window, [r for r in requirements if r.kind == "cap"])
    lines = [_line(r, counted, excess, cycle) for r in requirements]
    total_line = next((line for line in lines if line.id == "total"), None)
    missing = tuple(
        f"{normalized(line.required - line.earned)} more {rule.unit} ({line.label}) by {cycle.end.isoformat()}"
        for line in lines if line.kind == "minimum" and not line.met
    ) + tuple(f"confirm {item.title} by {cycle.end.isoformat()}" for item in items if not item.met)
    met = all(line.met for line in lines)
    return Progress(
        credential=rule.credential, unit=rule.unit, on=on, cycle_start=cycle.start,
        cycle_end=cycle.end,
        earned=total_line.earned if total_line else normalized(sum((a for _, a in counted), Decimal(0))),
        required=total_line.required if total_line else Decimal(0),
        met=met, requirements=tuple(lines), missing=missing,
        prorated=cycle.prorated, note=cycle.note, items=items, ready=met and all(i.met for i in items),
        self_reported=normalized(sum((a for c, a in counted if c.self_reported), Decimal(0))),
    )


def _first_per_course(credits: list[EarnedCredit]) -> list[EarnedCredit]:
    """A course counts once in a cycle (the earliest award of it), whatever rule is measured: the
    database keeps one award per course and period, and this also holds for awards keyed before
    a certification date was recorded or by rows older than that key."""
    seen: set[str] = set()
    kept = []
    for credit in credits:
        key = _key(credit)
        if key not in seen:
            seen.add(key)
            kept.append(credit)
    return kept


def _key(credit: EarnedCredit) -> str:
    return credit.course_key or f"course:{credit.course_id}"


def _apply_caps(
    credits: list[EarnedCredit], caps: list[Requirement]
) -> tuple[list[tuple[EarnedCredit, Decimal]], dict[str, Decimal]]:
    """Each credit with the amount that counts after the caps, and what each cap left out."""
    room = {cap.id: cap.amount for cap in caps}
    excess = {cap.id: Decimal(0) for cap in caps}
    counted = []
    for credit in credits:
        amount = credit.amount
        for cap in caps:
            if cap.matches(credit):
                allowed = min(amount, room[cap.id])
                excess[cap.id] += amount - allowed
                room[cap.id] -= allowed
                amount = allowed
        counted.append((credit, amount))
    return counted, excess


def _line(
    requirement: Requirement, counted: list[tuple[EarnedCredit, Decimal]], excess: dict[str, Decimal],
    cycle: Cycle,
) -> RequirementProgress:
    earned = normalized(sum((a for c, a in counted if requirement.matches(c)), Decimal(0)))
    if requirement.kind == "cap":
        return RequirementProgress(
            id=requirement.id, label=requirement.label, kind="cap", earned=earned,
            required=requirement.amount, met=True, not_counted=normalized(excess[requirement.id]),
        )
    required = requirement.amount
    if cycle.due is not None:
        required = dict(cycle.due).get(requirement.id, required)
    elif cycle.months_due is not None:
        # One exact division: 30 x 6 / 36 is 5, not 5.000…1 rounded up to 6.
        required = to_step(required * cycle.months_due / cycle.months, PRORATION_STEP, "up")
    return RequirementProgress(
        id=requirement.id, label=requirement.label, kind="minimum", earned=earned,
        required=normalized(required), met=earned >= required,
    )



