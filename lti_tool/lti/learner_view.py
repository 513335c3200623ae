"""What the learner page shows: credit by credential, progress toward renewal, credentials held."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits.registry import Rulebook
from lti_tool.services import learners
from lti_tool.services.awards import list_awards


@dataclass(frozen=True)
class Bar:
    label: str
    earned: Decimal
    required: Decimal

    @property
    def percent(self) -> int:
        if self.required <= 0:
            return 100
        return int(min(Decimal(100), self.earned * 100 / self.required))


@dataclass
class LearnerPage:
    awards: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    holdings: list[models.LearnerCredential] = field(default_factory=list)
    progress: list[tuple[str, list[Bar], list[tuple[str, str]]]] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    """Course id -> the title its mapping gives."""


def learner_page(
    session: Session, rulebook: Rulebook, *, source_id: int | None, user: str, on: date
) -> LearnerPage:
    page = LearnerPage()
    if source_id is None:
        return page
    page.awards = [a for a in list_awards(session, source_id=source_id, user=user) if not a["revoked"]]
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for award in page.awards:
        totals[(award["credential"], award["unit"])] += Decimal(award["amount"])
    page.totals = dict(sorted(totals.items()))
    source = session.get(models.Source, source_id)
    courses = {a["course"] for a in page.awards}
    if source is not None and courses:
        page.titles = {m.course_id: m.title for m in session.scalars(select(models.CourseMapping).where(
            models.CourseMapping.source_id == source.identity_id,
            models.CourseMapping.course_id.in_(courses))) if m.title}
    learner = learners.find_learner(session, source_id, user)
    if learner is None:
        return page
    page.holdings = list(session.scalars(select(models.LearnerCredential).where(
        models.LearnerCredential.learner_id == learner.id).order_by(models.LearnerCredential.credential)))
    if page.holdings:
        for result in learners.progress(session, rulebook, source_id=source_id, user=user, on=on):
            page.progress.append(describe_progress(result))
    return page


LABELS = ("label", "name", "description", "category", "id")


def describe_progress(result: Any) -> tuple[str, list[Bar], list[tuple[str, str]]]:
    """(credential, one bar per requirement, the other facts) from a plugin's progress dataclass.

    Requirements are read from a ``requirements`` sequence whose items carry an earned and a
    required amount (``earned``/``required``, or ``have``/``need``), and a label.
    """
    data = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else dict(vars(result))
    credential = str(data.get("credential", ""))
    bars = []
    for item in data.get("requirements") or []:
        earned = _amount(item, "earned", "have", "amount")
        required = _amount(item, "required", "need", "needed", "target")
        if earned is None or required is None:
            continue
        label = next((str(item[k]) for k in LABELS if item.get(k)), "requirement")
        bars.append(Bar(label, earned, required))
    facts = [(key.replace("_", " "), str(value)) for key, value in data.items()
             if key not in ("credential", "requirements") and value is not None
             and not isinstance(value, (list, dict))]
    return credential, bars, facts


def _amount(item: dict[str, Any], *names: str) -> Decimal | None:
    for name in names:
        if item.get(name) is not None:
            try:
                return Decimal(str(item[name]))
            except ArithmeticError:
                return None
    return None
