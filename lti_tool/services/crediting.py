"""Turning a completion into awards: each credential of the course's mapping asks its plugin."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook
from lti_tool.db import flushed_connection, table_of
from lti_tool.services import ledger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Awarded:
    id: int
    award: api.Award


@dataclass(frozen=True)
class AlreadyCredited:
    """A credential the completion did not earn again: the course has its award in this period."""

    credential: str
    period: str


@dataclass
class CreditOutcome:
    awarded: list[Awarded] = field(default_factory=list)
    refused: list[api.Refusal] = field(default_factory=list)
    already: list[AlreadyCredited] = field(default_factory=list)

    @property
    def status(self) -> models.EventStatus:
        if self.awarded:
            return models.EventStatus.CREDITED
        if self.already:
            return models.EventStatus.ALREADY_CREDITED
        return models.EventStatus.REFUSED

    def detail(self) -> dict[str, object]:
        return {
            "awards": [
                {"id": a.id, "credential": a.award.credential, "amount": str(a.award.amount),
                 "unit": a.award.unit}
                for a in self.awarded
            ],
            "refusals": [{"credential": r.credential, "reason": r.reason} for r in self.refused],
            "already_credited": [{"credential": a.credential, "cycle": a.period} for a in self.already],
        }


_CREDENTIALS_HELD = table_of(models.LearnerCredential)
_HOLDINGS = (
    select(_CREDENTIALS_HELD.c.learner_id, _CREDENTIALS_HELD.c.credential, _CREDENTIALS_HELD.c.certified_on,
           _CREDENTIALS_HELD.c.cycle_start, _CREDENTIALS_HELD.c.number)
    .where(_CREDENTIALS_HELD.c.learner_id.in_(bindparam("learner_ids", expanding=True)))
)
"""Built once, a Core statement run on the connection (no ORM objects): it runs in every batch of events."""


def _holdings(session: Session, learner_ids: set[int]) -> dict[tuple[int, str], api.Holding]:
    """The credentials the learners hold, by (learner, credential): their cycles key the awards."""
    if not learner_ids:
        return {}
    rows = flushed_connection(session).execute(_HOLDINGS, {"learner_ids": sorted(learner_ids)})
    return {(learner_id, credential): api.Holding(credential, certified_on, cycle_start, number)
            for learner_id, credential, certified_on, cycle_start, number in rows}


_MAPPING = select(models.CourseMapping).where(
    models.CourseMapping.source_id == bindparam("identity_id"),
    models.CourseMapping.course_id == bindparam("course_id"),
)


def find_mapping(session: Session, identity_id: int, course_id: str) -> models.CourseMapping | None:
    """The course's mapping; mappings live under the identity source (``identity_id``)."""
    return session.scalar(_MAPPING, {"identity_id": identity_id, "course_id": course_id})


class MappingTerms(Protocol):
    """What crediting reads of a course's mapping (a :class:`models.CourseMapping` or :class:`MappingRow`)."""

    @property
    def minutes(self) -> int | None: ...
    @property
    def use_measured_time(self) -> bool: ...
    @property
    def max_minutes(self) -> int | None: ...
    @property
    def activity(self) -> str: ...
    @property
    def facts(self) -> dict[str, Any]: ...
    @property
    def credentials(self) -> list[str]: ...


@dataclass(frozen=True)
class MappingRow:
    """A mapping's terms read as columns, without an ORM object (the events' hot path)."""

    minutes: int | None
    use_measured_time: bool
    max_minutes: int | None
    activity: str
    facts: dict[str, Any]
    credentials: list[str]


_MAPPINGS = table_of(models.CourseMapping)
_MAPPING_TERMS = select(
    _MAPPINGS.c.minutes, _MAPPINGS.c.use_measured_time, _MAPPINGS.c.max_minutes, _MAPPINGS.c.activity,
    _MAPPINGS.c.facts, _MAPPINGS.c.credentials,
).where(_MAPPINGS.c.source_id == bindparam("identity_id"), _MAPPINGS.c.course_id == bindparam("course_id"))


def find_mapping_terms(session: Session, identity_id: int, course_id: str) -> MappingRow | None:
    """:func:`find_mapping`'s terms as columns (no ORM object), for crediting."""
    row = flushed_connection(session).execute(
        _MAPPING_TERMS, {"identity_id": identity_id, "course_id": course_id}).first()
    return None if row is None else MappingRow(*row)


DEFAULT_MAX_MINUTES = 8 * 60
"""The ceiling on measured time when a mapping names neither ``max_minutes`` nor ``minutes``: a
learner who leaves a course open overnight has not studied all night."""


def ceiling_minutes(mapping: MappingTerms) -> int:
    return mapping.max_minutes or mapping.minutes or DEFAULT_MAX_MINUTES


def activity_for(mapping: MappingTerms, measured_minutes: int | None) -> api.Activity | None:
    """The activity a completion of this course was; ``None`` if it has no contact time. Measured
    time is credited up to the mapping's ceiling (:func:`ceiling_note` says when it was)."""
    minutes = mapping.minutes
    if mapping.use_measured_time and measured_minutes is not None:
        minutes = min(measured_minutes, ceiling_minutes(mapping))
    if minutes is None:
        return None
    facts = dict(mapping.facts)
    facts["approved_by"] = frozenset(facts.get("approved_by", ()))
    if facts.get("hours") is not None:
        facts["hours"] = Decimal(str(facts["hours"]))
    return api.Activity(minutes=minutes, type=mapping.activity, **facts)


def ceiling_note(mapping: MappingTerms, measured_minutes: int | None) -> str | None:
    """What the award's reason adds when the measured time was above the ceiling."""
    if not mapping.use_measured_time or measured_minutes is None:
        return None
    ceiling = ceiling_minutes(mapping)
    if measured_minutes <= ceiling:
        return None
    return f"measured {measured_minutes} min, credited at the mapping's ceiling of {ceiling} min"


@dataclass(frozen=True)
class _Conversion:
    """What every credential of a mapping makes of one contact time: a pure function of the mapping
    and the measured minutes (plugins give the same answer for the same input)."""

    activity: api.Activity | None
    results: tuple[tuple[str, api.CreditRule, api.Award | api.Refusal], ...] = ()


def _convert(mapping: MappingTerms, measured_minutes: int | None, rulebook: Rulebook) -> _Conversion:
    activity = activity_for(mapping, measured_minutes)
    if activity is None:
        return _Conversion(None)
    capped = ceiling_note(mapping, measured_minutes)
    results: list[tuple[str, api.CreditRule, api.Award | api.Refusal]] = []
    for credential in mapping.credentials:
        rule = rulebook.get(credential)
        result = rule.convert(activity)
        if capped is not None:
            result = dataclasses.replace(result, reason=f"{result.reason} ({capped})")
        results.append((credential, rule, result))
    return _Conversion(activity, tuple(results))


def credit_completions(
    session: Session,
    pairs: list[tuple[ledger.CompletionFacts, MappingTerms]],
    rulebook: Rulebook,
    holdings: dict[tuple[int, str], api.Holding] | None = None,
    award_log_level: int = logging.INFO,
) -> list[CreditOutcome]:
    """Award every credential of each completion's mapping that the completion has not earned yet.

    Every plugin converts first, once per distinct (mapping, measured minutes) of the set: the
    answer is a pure function of those, so a thousand completions of one course ask each plugin
    once. Then the awards of all the completions are written together (a few statements, not a few
    per award). ``holdings``: the learners' credentials, if read already (by (learner, credential)).
    Each award is logged at ``award_log_level`` (a bulk import logs its chunks instead).
    One outcome per pair, in order."""
    outcomes = [CreditOutcome() for _ in pairs]
    granted: list[tuple[CreditOutcome, ledger.NewAward]] = []
    if holdings is None:
        holdings = _holdings(session, {completion.learner_id for completion, _ in pairs})
    conversions: dict[tuple[int, int | None], _Conversion] = {}
    snapshots: dict[str, dict[str, str]] = {}
    for outcome, (completion, mapping) in zip(outcomes, pairs, strict=True):
        key = (id(mapping), completion.measured_minutes)  # the mappings live as long as `pairs`
        conversion = conversions.get(key)
        if conversion is None:
            conversion = conversions[key] = _convert(mapping, completion.measured_minutes, rulebook)
        if conversion.activity is None:
            outcome.refused = [
                api.Refusal(c, "no contact time: the mapping uses measured time and the event had none")
                for c in mapping.credentials
            ]
            continue
        on = completion.completed_at.astimezone(rulebook.zone).date()
        for credential, rule, result in conversion.results:
            if isinstance(result, api.Refusal):
                outcome.refused.append(result)
                continue
            holding = holdings.get((completion.learner_id, credential)) or api.Holding(credential)
            settings = snapshots.get(credential)
            if settings is None:
                settings = snapshots[credential] = rule.settings_snapshot()
            granted.append((outcome, ledger.NewAward(
                completion, result, conversion.activity, rule.rule_version, settings,
                key=rule.repeat_key(completion.course_id, result, holding, on))))
    award_ids = ledger.record_awards(session, [new for _, new in granted])
    logging_awards = log.isEnabledFor(award_log_level)
    for award_id, (outcome, new) in zip(award_ids, granted, strict=True):
        if award_id is None:
            outcome.already.append(AlreadyCredited(new.result.credential, new.repeat_key().label))
            continue
        outcome.awarded.append(Awarded(award_id, new.result))
        if logging_awards:
            log.log(
                award_log_level, "award %s: %s %s %s to learner %s for course %s",
                award_id, new.result.credential, new.result.amount, new.result.unit,
                new.completion.learner_id, new.completion.course_id,
            )
    return outcomes
