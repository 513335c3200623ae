"""Learners' credentials and their progress toward renewal."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from lti_tool import models, text
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook
from lti_tool.row_writes import upsert_many
from lti_tool.services.award_keys import rekey_awards
from lti_tool.services.day_range import EARLIEST, BadDay, check_day
from lti_tool.services.outside_credit import earned_outside

log = logging.getLogger(__name__)


class LearnerError(LookupError):
    pass


class BadCredentialDetails(LearnerError):
    """A number or date no one could hold (refused with a 400 or a usage error)."""


EARLIEST_CERTIFICATION = EARLIEST
MAX_NUMBER = 100


def check_details(number: str | None, certified_on: date | None, today: date | None = None,
                  cycle_start: date | None = None) -> None:
    """A member or licence number fits its column and is one clean line; a certification date lies
    between 1950 and tomorrow (a date in year 9999 would break every renewal computation)."""
    if number is not None:
        try:
            text.checked(number, "the number", MAX_NUMBER, required=False)
        except text.BadText as exc:
            raise BadCredentialDetails(str(exc)) from None
    try:
        if certified_on is not None:
            check_day(certified_on, "the certification date", today=today)
        if cycle_start is not None:
            check_day(cycle_start, "the cycle start", today=today)
    except BadDay as exc:
        raise BadCredentialDetails(str(exc)) from None


LMS_USER_ID_LIMIT = 255
"""The learners table's ``lms_user_id`` column."""


@dataclass(frozen=True)
class LearnerKey:
    """A learner as the LMS names them: the *identity* source (:attr:`models.Source.identity_id`,
    shared by every source that reports the same LMS's people) and the LMS's user id.

    A learner, their awards and their course mappings are stored under ``identity_id``, never under
    the source an event or a command happened to name: resolve a source once, with
    :func:`learner_key` or :func:`identity_of`, and pass the key on."""

    identity_id: int
    lms_user_id: str

    def __post_init__(self) -> None:
        """The LMS's id fits its column and is clean text (a CLI ``--user`` or a form reaches here)."""
        try:
            text.checked(self.lms_user_id, "the learner's id", LMS_USER_ID_LIMIT, required=False)
        except text.BadText as exc:
            raise LearnerError(str(exc)) from None


@dataclass(frozen=True)
class SeenLearner:
    """A learner an event or a launch names, with the name and e-mail it gives (``None``: unknown,
    keep what is stored)."""

    key: LearnerKey
    name: str | None = None
    email: str | None = None


def identity_of(session: Session, source_id: int) -> int:
    """The identity source of ``source_id``: the one resolver from "the source a caller named" to
    "the source learners, awards and mappings are stored under"."""
    source = session.get(models.Source, source_id)
    if source is None:
        raise LearnerError(f"no source with id {source_id}")
    return source.identity_id


def learner_key(session: Session, source_id: int, user: str) -> LearnerKey:
    """The key of ``user`` as named through ``source_id`` (any source sharing the identities)."""
    return LearnerKey(identity_of(session, source_id), user)


def find_learner(session: Session, key: LearnerKey) -> models.Learner | None:
    return session.scalar(select(models.Learner).where(
        models.Learner.source_id == key.identity_id, models.Learner.lms_user_id == key.lms_user_id))


def record_learners(session: Session, seen: Sequence[SeenLearner]) -> list[int]:
    """Create the learners not stored yet and refresh the name and e-mail of the others (a ``None``
    keeps the stored value); return each one's id, in order, from one multi-row upsert.

    The one way learners come to exist: from events (many at once), from a launch, from a command."""
    now = models.utcnow()
    return upsert_many(
        session,
        models.Learner.__table__,
        [{"source_id": s.key.identity_id, "lms_user_id": s.key.lms_user_id, "name": s.name,
          "email": s.email, "created_at": now} for s in seen],
        ("source_id", "lms_user_id"),
        ("name", "email"),
    )


def record_learner(session: Session, seen: SeenLearner) -> models.Learner:
    """:func:`record_learners` for one learner; returns the row."""
    [learner_id] = record_learners(session, [seen])
    learner = session.get(models.Learner, learner_id, populate_existing=True)
    assert learner is not None
    return learner


def add_credential(
    session: Session, rulebook: Rulebook, *, key: LearnerKey, credential: str,
    number: str | None, certified_on: date | None, cycle_start: date | None,
) -> models.LearnerCredential:
    """Record (or update) a credential the learner holds; the learner may have no events yet. A
    new or changed certification date (or cycle start) re-keys the learner's awards of the
    credential to their cycles (:func:`lti_tool.services.award_keys.rekey_awards`), so a course
    still earns at most once per cycle."""
    rulebook.get(credential)
    check_details(number, certified_on, cycle_start=cycle_start)
    learner = record_learner(session, SeenLearner(key))
    holding = session.scalar(select(models.LearnerCredential).where(
        models.LearnerCredential.learner_id == learner.id,
        models.LearnerCredential.credential == credential))
    if holding is None:
        holding = models.LearnerCredential(learner_id=learner.id, credential=credential)
        session.add(holding)
    holding.number = number if number is not None else holding.number
    dates = (holding.certified_on, holding.cycle_start)
    holding.certified_on = certified_on or holding.certified_on
    holding.cycle_start = cycle_start or holding.cycle_start
    session.flush()
    if (holding.certified_on, holding.cycle_start) != dates:
        rekey_awards(session, rulebook, learner_id=learner.id, credential=credential)
    return holding


def credential_number(session: Session, learner_id: int, credential: str) -> str | None:
    """The member or licence number the learner recorded for the credential."""
    return session.scalar(select(models.LearnerCredential.number).where(
        models.LearnerCredential.learner_id == learner_id, models.LearnerCredential.credential == credential))


def holds_or_earned(session: Session, learner_id: int, credential: str) -> bool:
    """The learner has the credential on file, or an award toward it."""
    on_file = session.scalar(select(models.LearnerCredential.id).where(
        models.LearnerCredential.learner_id == learner_id, models.LearnerCredential.credential == credential))
    return on_file is not None or session.scalar(select(models.Award.id).where(
        models.Award.learner_id == learner_id, models.Award.credential == credential).limit(1)) is not None


def earned_credits(session: Session, learner_id: int, zone: tzinfo = UTC) -> list[api.EarnedCredit]:
    """The learner's awards that stand (revoked ones left out), as progress sees them: each dated
    by the calendar of ``zone`` (the deployment's), not UTC's.

    Read as the columns progress needs, the revocation decided in the same query: the learner page
    reads a learner's hundreds of awards on every view, and whole ORM rows (their activity and
    settings JSON decoded) plus an ``IN`` list of every id cost more than the progress itself."""
    a = models.Award
    revoked = exists().where(models.LedgerEntry.award_id == a.id, models.LedgerEntry.kind == models.EntryKind.REVERSAL)
    rows = session.execute(
        select(a.credential, a.amount, a.completed_at, a.course_id, a.category, a.tags, a.course_key)
        .where(a.learner_id == learner_id, ~revoked).order_by(a.id))
    days: dict[datetime, date] = {}  # a completion's awards share its moment: one zone lookup for them
    earned = []
    for row in rows:
        day = days.get(row.completed_at)
        if day is None:
            day = days[row.completed_at] = _local_date(row.completed_at, zone)
        earned.append(api.EarnedCredit(
            credential=row.credential, amount=row.amount, earned_on=day, course_id=row.course_id,
            category=row.category, tags=frozenset(row.tags), course_key=row.course_key,
        ))
    return earned


def _local_date(moment: datetime, zone: tzinfo) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def progress(session: Session, rulebook: Rulebook, *, key: LearnerKey, on: date,
             zone: tzinfo = UTC) -> list[Any]:
    """Progress toward renewal for each credential the learner holds (a pure plugin computation)."""
    learner = find_learner(session, key)
    if learner is None:
        raise LearnerError(f"no learner {key.lms_user_id!r} in source {key.identity_id}")
    holdings = session.scalars(select(models.LearnerCredential).where(
        models.LearnerCredential.learner_id == learner.id).order_by(models.LearnerCredential.credential))
    earned = earned_credits(session, learner.id, zone) + earned_outside(session, learner.id, rulebook)
    confirmed = confirmations(session, learner.id)
    results = []
    for h in holdings:
        rule = rulebook.get(h.credential)
        holding = api.Holding(credential=h.credential, certified_on=h.certified_on,
                              cycle_start=h.cycle_start, number=h.number)
        mine = [e for e in earned if e.credential == h.credential]
        own = [c for c in confirmed if c.credential == h.credential]
        try:
            results.append(rule.progress(mine, holding, on, own))
        except (ValueError, OverflowError) as exc:
            # A stored date no calendar can follow (stored before dates were checked on input):
            # the page shows the credential without its cycle instead of failing for good.
            log.warning("learner %s: %s dates out of range (%s); shown without a cycle",
                        learner.id, h.credential, exc)
            try:
                results.append(rule.progress(mine, replace(holding, certified_on=None, cycle_start=None), on, own))
            except (ValueError, OverflowError):  # the day asked about is beyond the calendar's reach
                raise LearnerError(f"progress cannot be measured on {on}") from None
    return results


def confirmations(session: Session, learner_id: int) -> list[api.Confirmation]:
    """The renewal items (fees, memberships, volunteer hours) the learner confirmed."""
    rows = session.scalars(select(models.RenewalConfirmation).where(
        models.RenewalConfirmation.learner_id == learner_id).order_by(models.RenewalConfirmation.confirmed_on))
    return [api.Confirmation(r.credential, r.item, r.confirmed_on, r.amount) for r in rows]
