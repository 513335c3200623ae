"""A learner's transcript for one credential and renewal cycle: every award counted in the cycle,
the totals per requirement as the plugin measures them, and the non-credit items.

The cycle is the one containing ``cycle_on`` (default: today); a past cycle is measured on its last
day, the current one today. Without a cycle (a credential that does not renew, or no certification
date on file) the transcript lists every award. It is measured as the learner's progress is
(:func:`lti_tool.services.learners.progress`: awards, outside credit and confirmed items), and lists
the outside credit of the cycle with its status (self-reported or verified; rejected left out).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook
from lti_tool.credits.rounding import normalized
from lti_tool.exports.transcript import Transcript, TranscriptLine
from lti_tool.services import learners, outside_credit
from lti_tool.services.awards import list_awards
from lti_tool.services.crediting import find_mapping
from lti_tool.states import OutsideStatus


class TranscriptUnavailable(LookupError):
    """No such learner, or the learner neither holds the credential nor has credit toward it."""


def _items(progress: api.Progress) -> tuple[tuple[str, str], ...]:
    return tuple((item.title, f"confirmed {item.confirmed_on.isoformat()}" if item.met and item.confirmed_on
                  else "confirmed" if item.met else "not confirmed") for item in progress.items)


def _outside(session: Session, learner_id: int, credential: str,
             cycle: api.Cycle | None) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"{row.title} ({row.provider}, {row.activity_on.isoformat()}, {row.status})", str(normalized(row.amount)))
        for row in outside_credit.outside_credits(session, learner_id)
        if row.credential == credential and row.status != OutsideStatus.REJECTED
        and (cycle is None or cycle.counts_from <= row.activity_on <= cycle.end))


def build_transcript(session: Session, rulebook: Rulebook, *, key: learners.LearnerKey, credential: str,
                     cycle_on: date | None, today: date, zone: tzinfo) -> Transcript:
    rule = rulebook.get(credential)
    user = key.lms_user_id
    learner = learners.find_learner(session, key)
    if learner is None:
        raise TranscriptUnavailable(f"no learner {user!r} in source {key.identity_id}")
    holding_row = session.scalar(select(models.LearnerCredential).where(
        models.LearnerCredential.learner_id == learner.id, models.LearnerCredential.credential == credential))
    awards = [a for a in list_awards(session, identity_id=key.identity_id, user=user)
              if a["credential"] == credential and not a["revoked"]]
    if holding_row is None and not awards:
        raise TranscriptUnavailable(f"{user!r} holds no {credential} and has no credit toward it")
    holding = api.Holding(credential=credential, certified_on=holding_row.certified_on if holding_row else None,
                          cycle_start=holding_row.cycle_start if holding_row else None,
                          number=holding_row.number if holding_row else None)
    cycle = rule.cycle(holding, cycle_on or today)
    on = min(max(today, cycle.start), cycle.end) if cycle is not None else today
    earned = [e for e in learners.earned_credits(session, learner.id, zone)
              + outside_credit.earned_outside(session, learner.id, rulebook) if e.credential == credential]
    confirmed = [c for c in learners.confirmations(session, learner.id) if c.credential == credential]
    progress = rule.progress(earned, holding, on, confirmed)
    lines = tuple(_line(session, a, zone) for a in awards)
    if cycle is not None:
        lines = tuple(line for line in lines if cycle.counts_from <= line.completed_on <= cycle.end)
    return Transcript(
        learner_name=learner.name or f"LMS user {user}", credential=credential, title=rule.title, body=rule.body,
        number=holding.number, unit=rule.unit, cycle_start=cycle.start if cycle else None,
        cycle_end=cycle.end if cycle else None, measured_on=progress.on, lines=lines,
        requirements=progress.requirements, earned=str(normalized(progress.earned)),
        required=str(normalized(progress.required)), met=progress.met, missing=progress.missing,
        items=_items(progress), outside=_outside(session, learner.id, credential, cycle))


def _line(session: Session, award: dict[str, Any], zone: tzinfo) -> TranscriptLine:
    completed = datetime.fromisoformat(award["completed_at"]).astimezone(zone).date()
    mapping = find_mapping(session, award["source_id"], award["course"])
    title = mapping.title if mapping is not None and mapping.title else f"Course {award['course']}"
    return TranscriptLine(award_id=award["id"], completed_on=completed, course=title,
                          minutes=award["minutes"], amount=award["amount"], unit=award["unit"],
                          category=award["category"], index_number=award["index_number"])
