"""A learner's transcript for one credential and renewal cycle: every award counted in the cycle,
the totals per requirement as the plugin measures them, and the non-credit items.

The cycle is the one containing ``cycle_on`` (default: today); a past cycle is measured on its last
day, the current one today. Without a cycle (a credential that does not renew, or no certification
date on file) the transcript lists every award. Non-credit items and outside credit come from the
plugin's progress result when it carries them (``items``, ``outside``), so they appear here with
the items of #9 without a second definition.
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
from lti_tool.services import learners
from lti_tool.services.awards import list_awards
from lti_tool.services.crediting import find_mapping


class TranscriptUnavailable(LookupError):
    """No such learner, or the learner neither holds the credential nor has credit toward it."""


def _items(progress: api.Progress) -> tuple[tuple[str, str], ...]:
    rows = []
    for item in getattr(progress, "items", None) or ():
        done = getattr(item, "met", None)
        if done is None:
            done = getattr(item, "confirmed", False)
        label = getattr(item, "label", None) or getattr(item, "title", None) or str(item)
        rows.append((str(label), "confirmed" if done else "not confirmed"))
    return tuple(rows)


def _outside(progress: api.Progress) -> tuple[tuple[str, str], ...]:
    return tuple((str(getattr(o, "label", None) or getattr(o, "description", None) or o),
                  str(getattr(o, "amount", ""))) for o in getattr(progress, "outside", None) or ())


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
    earned = [e for e in learners.earned_credits(session, learner.id, zone) if e.credential == credential]
    progress = rule.progress(earned, holding, on)
    lines = tuple(_line(session, a, zone) for a in awards)
    if cycle is not None:
        lines = tuple(line for line in lines if cycle.counts_from <= line.completed_on <= cycle.end)
    return Transcript(
        learner_name=learner.name or f"LMS user {user}", credential=credential, title=rule.title, body=rule.body,
        number=holding.number, unit=rule.unit, cycle_start=cycle.start if cycle else None,
        cycle_end=cycle.end if cycle else None, measured_on=progress.on, lines=lines,
        requirements=progress.requirements, earned=str(normalized(progress.earned)),
        required=str(normalized(progress.required)), met=progress.met, missing=progress.missing,
        items=_items(progress), outside=_outside(progress))


def _line(session: Session, award: dict[str, Any], zone: tzinfo) -> TranscriptLine:
    completed = datetime.fromisoformat(award["completed_at"]).astimezone(zone).date()
    mapping = find_mapping(session, award["source_id"], award["course"])
    title = mapping.title if mapping is not None and mapping.title else f"Course {award['course']}"
    return TranscriptLine(award_id=award["id"], completed_on=completed, course=title,
                          minutes=award["minutes"], amount=award["amount"], unit=award["unit"],
                          category=award["category"], index_number=award["index_number"])
