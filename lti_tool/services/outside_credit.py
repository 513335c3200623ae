"""Credit earned outside the LMS: recorded by the learner (or for them), converted by the
credential's plugin like any activity, self-reported until an administrator decides.

It counts toward renewal progress unless rejected, and it is never an award of the tool's: no
ledger entry and no outbox claim are written, so it is never exported as the tool's own claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models, text
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook
from lti_tool.credits.repeats import course_key
from lti_tool.events.completion import MAX_MINUTES
from lti_tool.row_writes import insert_or_skip
from lti_tool.services.certificate_files import StoredCertificate
from lti_tool.services.day_range import BadDay, check_day
from lti_tool.services.ledger import activity_facts
from lti_tool.states import OutsideStatus

LIMITS = {"title": 500, "provider": 500}


class OutsideRefused(ValueError):
    """The activity cannot be recorded: the plugin refuses it, or a field is empty or too long."""


class OutsideNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Recorded:
    row: models.OutsideCredit
    new: bool
    """``False``: the same activity (credential, title, provider, date) was recorded already."""


ACTIVITY_TEXT_LIMIT = 200
"""The longest sponsor, category, index number or approving body an outside activity may name."""


def _check_activity_text(title: str, provider: str, activity: api.Activity) -> None:
    """One line each, no NUL, lone surrogate or control character (the same 4xx on SQLite and
    PostgreSQL): they are stored, shown and written into claims."""
    fields = [("title", title), ("provider", provider), ("sponsor", activity.sponsor),
              ("category", activity.category), ("index number", activity.index_number),
              *(("approving body", body) for body in activity.approved_by)]
    try:
        for name, value in fields:
            if value is not None:
                text.checked(value, name, LIMITS.get(name, ACTIVITY_TEXT_LIMIT), required=False)
    except text.BadText as exc:
        raise OutsideRefused(str(exc)) from None


def record_outside(
    session: Session, rulebook: Rulebook, *, learner_id: int, credential: str, title: str, provider: str,
    on: date, activity: api.Activity, certificate: StoredCertificate | None, recorded_by: str,
) -> Recorded:
    rule = rulebook.get(credential)
    title, provider = title.strip(), provider.strip()
    for name, value in (("title", title), ("provider", provider)):
        if not value:
            raise OutsideRefused(f"the {name} is empty")
        if len(value) > LIMITS[name]:
            raise OutsideRefused(f"the {name} is longer than {LIMITS[name]} characters")
    _check_activity_text(title, provider, activity)
    if not 1 <= activity.minutes <= MAX_MINUTES:  # the minutes column; a bigger number was a 500
        raise OutsideRefused(f"the minutes must be between 1 and {MAX_MINUTES}")
    try:  # a future activity would count toward a cycle that has not come
        check_day(on, "the date")
    except BadDay as exc:
        raise OutsideRefused(str(exc)) from None
    held = session.scalar(select(models.LearnerCredential.id).where(
        models.LearnerCredential.learner_id == learner_id, models.LearnerCredential.credential == credential))
    if held is None:
        raise OutsideRefused(f"the learner does not hold {credential}; record the credential first")
    result = rule.convert(activity)
    if isinstance(result, api.Refusal):
        raise OutsideRefused(f"{credential}: {result.reason}")
    new_id = insert_or_skip(session, models.OutsideCredit.__table__, {
        "learner_id": learner_id, "credential": credential, "title": title, "provider": provider,
        "activity_on": on, "minutes": activity.minutes, "activity": activity_facts(activity),
        "amount": result.amount, "unit": result.unit, "category": result.category,
        "index_number": result.index_number, "tags": sorted(result.tags), "reason": result.reason,
        "rule_version": rule.rule_version, "settings": rule.settings_snapshot(), "status": OutsideStatus.SELF_REPORTED,
        "certificate_file": certificate.file if certificate else None,
        "certificate_type": certificate.media_type if certificate else None,
        "recorded_by": recorded_by, "created_at": models.utcnow(),
    }, ["learner_id", "credential", "title", "provider", "activity_on"])
    row = session.scalar(select(models.OutsideCredit).where(
        models.OutsideCredit.learner_id == learner_id, models.OutsideCredit.credential == credential,
        models.OutsideCredit.title == title, models.OutsideCredit.provider == provider,
        models.OutsideCredit.activity_on == on))
    assert row is not None
    return Recorded(row, new_id is not None)


def decide(session: Session, outside_id: int, *, verified: bool, reason: str | None = None) -> models.OutsideCredit:
    """Verify or reject an outside activity. Verifying a rejected one, or deciding the same way
    twice, changes nothing more; rejecting needs a reason."""
    row = session.get(models.OutsideCredit, outside_id)
    if row is None:
        raise OutsideNotFound(f"no outside credit with id {outside_id}")
    reason = (reason or "").strip()
    if not verified and not reason:
        raise OutsideRefused("a rejection needs a reason")
    if reason:
        try:
            reason = text.checked(reason, "reason", 1000)  # status_reason's column; one line
        except text.BadText as exc:
            raise OutsideRefused(str(exc)) from None
    wanted = OutsideStatus.VERIFIED if verified else OutsideStatus.REJECTED
    if row.status == wanted:
        return row
    if verified and row.status == OutsideStatus.REJECTED:
        raise OutsideRefused(f"outside credit {outside_id} was rejected ({row.status_reason}); record it again")
    row.status = wanted
    row.status_reason = None if verified else reason
    row.decided_at = models.utcnow()
    session.flush()
    return row


def list_outside(session: Session, *, status: str | None = None,
                 learner_id: int | None = None) -> list[models.OutsideCredit]:
    query = select(models.OutsideCredit).order_by(models.OutsideCredit.id)
    if status is not None:
        query = query.where(models.OutsideCredit.status == status)
    if learner_id is not None:
        query = query.where(models.OutsideCredit.learner_id == learner_id)
    return list(session.scalars(query))


def outside_credits(session: Session, learner_id: int) -> list[models.OutsideCredit]:
    return list(session.scalars(select(models.OutsideCredit).where(
        models.OutsideCredit.learner_id == learner_id).order_by(models.OutsideCredit.activity_on,
                                                                  models.OutsideCredit.id)))


def earned_outside(session: Session, learner_id: int, rulebook: Rulebook) -> list[api.EarnedCredit]:
    """Outside credit as progress sees it, rejected left out: each activity a course of its own,
    except for a credential whose courses count once by the body's index number (AAPC), where an
    activity with an index number is that course, as the tool's own awards of it are."""
    by_index = {rule.credential for rule in rulebook if rule.course_counts_once}
    return [
        api.EarnedCredit(credential=r.credential, amount=r.amount, earned_on=r.activity_on,
                         course_id=f"outside:{r.id}", category=r.category, tags=frozenset(r.tags),
                         course_key=(course_key(f"outside:{r.id}", r.index_number) if r.credential in by_index
                                     else f"outside:{r.id}"),
                         self_reported=r.status == OutsideStatus.SELF_REPORTED)
        for r in outside_credits(session, learner_id) if r.status != OutsideStatus.REJECTED
    ]
