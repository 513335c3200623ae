"""Learners' credentials and their progress toward renewal."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models, text
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook
from lti_tool.db import insert_or_skip
from lti_tool.services.ledger import revoked_award_ids

log = logging.getLogger(__name__)


class LearnerError(LookupError):
    pass


class BadCredentialDetails(LearnerError):
    """A number or date no one could hold (refused with a 400 or a usage error)."""


EARLIEST_CERTIFICATION = date(1950, 1, 1)
MAX_NUMBER = 100


def check_details(number: str | None, certified_on: date | None, today: date | None = None) -> None:
    """A member or licence number fits its column and is one clean line; a certification date lies
    between 1950 and tomorrow (a date in year 9999 would break every renewal computation)."""
    if number is not None:
        try:
            text.checked(number, "the number", MAX_NUMBER, required=False)
        except text.BadText as exc:
            raise BadCredentialDetails(str(exc)) from None
    latest = (today or date.today()) + timedelta(days=1)
    if certified_on is not None and not EARLIEST_CERTIFICATION <= certified_on <= latest:
        raise BadCredentialDetails(f"the certification date {certified_on} is not between "
                                   f"{EARLIEST_CERTIFICATION} and today")


def find_learner(session: Session, source_id: int, user: str) -> models.Learner | None:
    source = session.get(models.Source, source_id)
    if source is None:
        raise LearnerError(f"no source with id {source_id}")
    return session.scalar(select(models.Learner).where(
        models.Learner.source_id == source.identity_id, models.Learner.lms_user_id == user))


def add_credential(
    session: Session, rulebook: Rulebook, *, source_id: int, user: str, credential: str,
    number: str | None, certified_on: date | None, cycle_start: date | None,
) -> models.LearnerCredential:
    """Record (or update) a credential the learner holds; the learner may have no events yet."""
    rulebook.get(credential)
    check_details(number, certified_on)
    source = session.get(models.Source, source_id)
    if source is None:
        raise LearnerError(f"no source with id {source_id}")
    insert_or_skip(session, models.Learner.__table__,
                   {"source_id": source.identity_id, "lms_user_id": user, "created_at": models.utcnow()},
                   ["source_id", "lms_user_id"])
    learner = find_learner(session, source_id, user)
    assert learner is not None
    holding = session.scalar(select(models.LearnerCredential).where(
        models.LearnerCredential.learner_id == learner.id,
        models.LearnerCredential.credential == credential))
    if holding is None:
        holding = models.LearnerCredential(learner_id=learner.id, credential=credential)
        session.add(holding)
    holding.number = number if number is not None else holding.number
    holding.certified_on = certified_on or holding.certified_on
    holding.cycle_start = cycle_start or holding.cycle_start
    session.flush()
    return holding


def earned_credits(session: Session, learner_id: int, zone: tzinfo = UTC) -> list[api.EarnedCredit]:
    """The learner's awards that stand (revoked ones left out), as progress sees them: each dated
    by the calendar of ``zone`` (the deployment's), not UTC's."""
    awards = list(session.scalars(select(models.Award).where(models.Award.learner_id == learner_id)))
    revoked = revoked_award_ids(session, [a.id for a in awards])
    return [
        api.EarnedCredit(
            credential=a.credential, amount=a.amount, earned_on=_local_date(a.completed_at, zone),
            course_id=a.course_id, category=a.category, tags=frozenset(a.tags),
        )
        for a in awards if a.id not in revoked
    ]


def _local_date(moment: datetime, zone: tzinfo) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def progress(session: Session, rulebook: Rulebook, *, source_id: int, user: str, on: date,
             zone: tzinfo = UTC) -> list[Any]:
    """Progress toward renewal for each credential the learner holds (a pure plugin computation)."""
    learner = find_learner(session, source_id, user)
    if learner is None:
        raise LearnerError(f"no learner {user!r} for source {source_id}")
    holdings = session.scalars(select(models.LearnerCredential).where(
        models.LearnerCredential.learner_id == learner.id).order_by(models.LearnerCredential.credential))
    earned = earned_credits(session, learner.id, zone)
    results = []
    for h in holdings:
        rule = rulebook.get(h.credential)
        holding = api.Holding(credential=h.credential, certified_on=h.certified_on,
                              cycle_start=h.cycle_start, number=h.number)
        mine = [e for e in earned if e.credential == h.credential]
        try:
            results.append(rule.progress(mine, holding, on))
        except (ValueError, OverflowError) as exc:
            # A stored date no calendar can follow (stored before dates were checked on input):
            # the page shows the credential without its cycle instead of failing for good.
            log.warning("learner %s: %s dates out of range (%s); shown without a cycle",
                        learner.id, h.credential, exc)
            results.append(rule.progress(mine, replace(holding, certified_on=None, cycle_start=None), on))
    return results
