"""Recomputing awards after a rule or its settings changed: reversal plus a new revision.

A past award is never changed. When asked, each standing award whose plugin now gives a different
result (amount, unit, category or index number) is reversed, and the new result is appended as the
award's next revision, with its own credit entry and outbox claim. A new rule version or new settings
that give the same result change nothing: a certifying body is not sent a retraction and a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook
from lti_tool.services import ledger


@dataclass
class RecomputeReport:
    unchanged: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)


def stored_activity(award: models.Award) -> api.Activity:
    facts = dict(award.activity)
    facts["approved_by"] = frozenset(facts.get("approved_by") or ())
    if facts.get("hours") is not None:
        facts["hours"] = Decimal(facts["hours"])
    return api.Activity(**facts)


def standing_awards(session: Session, credential: str | None, course: str | None) -> list[models.Award]:
    """The newest revision of each award that has not been reversed."""
    query = select(models.Award).order_by(models.Award.completion_id, models.Award.credential,
                                          models.Award.revision)
    if credential:
        query = query.where(models.Award.credential == credential)
    if course:
        query = query.where(models.Award.course_id == course)
    newest: dict[tuple[int, str], models.Award] = {}
    for award in session.scalars(query):
        newest[(award.completion_id, award.credential)] = award
    revoked = ledger.revoked_award_ids(session, [a.id for a in newest.values()])
    return [a for a in newest.values() if a.id not in revoked]


def recompute(session: Session, rulebook: Rulebook, *, credential: str | None = None,
              course: str | None = None, dry_run: bool = False) -> RecomputeReport:
    report = RecomputeReport()
    for award in standing_awards(session, credential, course):
        rule = rulebook.get(award.credential)
        activity = stored_activity(award)
        result = rule.convert(activity)
        settings = rule.settings_snapshot()
        if isinstance(result, api.Refusal):
            report.refused.append({"award_id": award.id, "reason": result.reason})
            continue
        same = (result.amount == award.amount and result.unit == award.unit
                and result.category == award.category and result.index_number == award.index_number)
        if same:
            report.unchanged += 1
            continue
        change = {"award_id": award.id, "credential": award.credential,
                  "old": str(award.amount), "new": str(result.amount), "rule_version": rule.rule_version}
        if not dry_run:
            ledger.revoke_award(session, award.id, f"recomputed with {rule.rule_version}")
            change["new_award_id"] = ledger.record_award(
                session, award_facts(award), result, activity=activity,
                rule_version=rule.rule_version, settings=settings, revision=award.revision + 1,
                key=api.RepeatKey(award.course_key, award.period, award.period),
            )
        report.changed.append(change)
    return report


def award_facts(award: models.Award) -> ledger.CompletionFacts:
    return ledger.KnownCompletion(award.completion_id, award.learner_id, award.source_id, award.course_id,
                                  award.completed_at, None)
