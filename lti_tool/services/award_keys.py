"""Keeping awards' retake keys true to the learner's cycles.

An award's period (:attr:`lti_tool.models.Award.period`) is the cycle it was earned in, so that the
unique key allows one award per course per cycle. Two things move a cycle after awards were keyed:
a certification date recorded later (awards made meanwhile share the ``unanchored`` period, and a
further completion inside what is then one cycle would otherwise earn once more), and a corrected
certification date or cycle start. :func:`rekey_awards` re-keys the learner's awards of the
credential to the periods the plugin gives them now, in the caller's transaction, when the date is
recorded (:func:`lti_tool.services.learners.add_credential`).

Only the period changes, never an amount, a ledger entry or a claim. Each update is guarded by the
unique key itself (``NOT EXISTS`` the same key): an award whose new period another award of the same
course holds already (two retakes credited under the old date now in one cycle) keeps its old key,
and both awards stand; the count of those is returned, and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rekeyed:
    moved: int
    kept: int
    """Awards whose new period an award of the same course holds already: left as they were."""


def rekey_awards(session: Session, rulebook: Rulebook, *, learner_id: int, credential: str) -> Rekeyed:
    rule = rulebook.get(credential)
    if rule.effective_repeat_policy() != "cycle":
        return Rekeyed(0, 0)
    row = session.scalar(select(models.LearnerCredential).where(
        models.LearnerCredential.learner_id == learner_id, models.LearnerCredential.credential == credential))
    holding = api.Holding(credential, row.certified_on, row.cycle_start, row.number) if row else api.Holding(credential)
    awards = session.execute(select(
        models.Award.id, models.Award.course_id, models.Award.index_number, models.Award.period,
        models.Award.completed_at).where(
        models.Award.learner_id == learner_id, models.Award.credential == credential,
        models.Award.period.not_like("legacy:%")).order_by(models.Award.completed_at, models.Award.id)).all()
    moved = kept = 0
    other = aliased(models.Award)
    for award_id, course_id, index_number, period, completed_at in awards:
        on = completed_at.astimezone(rulebook.zone).date()  # as crediting dates it
        award = api.Award(credential, Decimal(0), "", "", index_number=index_number)
        key = rule.repeat_key(course_id, award, holding, on)
        if key.period == period:
            continue
        done = cast(CursorResult[Any], session.execute(
            update(models.Award).where(models.Award.id == award_id, ~exists().where(and_(
                other.learner_id == models.Award.learner_id, other.credential == models.Award.credential,
                other.course_key == models.Award.course_key, other.period == key.period,
                other.revision == models.Award.revision)))
            .values(period=key.period).execution_options(synchronize_session=False)))
        if done.rowcount:
            moved += 1
        else:
            kept += 1
            log.warning("award %s (learner %s, %s) keeps period %s: another award of its course holds %s",
                        award_id, learner_id, credential, period, key.period)
    return Rekeyed(moved, kept)


def rekey_all(session: Session, rulebook: Rulebook) -> Rekeyed:
    """:func:`rekey_awards` for every learner and credential with awards (``lti-tool awards rekey``:
    a database upgraded past 0006 before the configured rules were handed to the migration)."""
    pairs = session.execute(select(models.Award.learner_id, models.Award.credential).distinct()
                            .order_by(models.Award.learner_id, models.Award.credential)).all()
    moved = kept = 0
    for learner_id, credential in pairs:
        if credential not in rulebook:
            continue
        done = rekey_awards(session, rulebook, learner_id=learner_id, credential=credential)
        moved, kept = moved + done.moved, kept + done.kept
    return Rekeyed(moved, kept)
