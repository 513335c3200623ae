"""Which renewal reminders are due: one per (learner, credential, cycle, offset), never twice.

A learner is reminded when they have an e-mail address, have not unsubscribed, hold a credential
whose cycle ends within one of the offsets (``reminders.offsets_days``), and are short of a minimum
or have a non-credit item not yet confirmed. Only the nearest offset reached counts: a learner first
seen 20 days before the end gets the 30-day reminder, once, not the 90-day one as well. What they
still need comes from the plugin's progress result, the same one the learner's page shows.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook, UnknownCredential
from lti_tool.credits.rounding import normalized
from lti_tool.services import learners
from lti_tool.services.reminder_mail import mailbox
from lti_tool.states import ReminderStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueReminder:
    key: str
    learner_id: int
    learner_name: str | None
    email: str
    source_id: int
    credential: str
    cycle_end: date
    offset_days: int
    days_left: int
    progress: api.Progress

    def needs(self) -> tuple[str, ...]:
        return tuple(self.progress.missing) + tuple(f"confirm: {item}" for item in unmet_items(self.progress))

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "learner_id": self.learner_id, "email": self.email,
                "credential": self.credential, "cycle_end": self.cycle_end.isoformat(),
                "offset_days": self.offset_days, "days_left": self.days_left,
                "earned": str(normalized(self.progress.earned)), "required": str(normalized(self.progress.required)),
                "unit": self.progress.unit, "needs": list(self.needs())}


def reminder_key(learner_id: int, credential: str, cycle_end: date, offset_days: int) -> str:
    return hashlib.sha256(f"reminder|{learner_id}|{credential}|{cycle_end.isoformat()}|{offset_days}"
                          .encode()).hexdigest()


def unmet_items(progress: api.Progress) -> list[str]:
    """The non-credit renewal items (fees, memberships, volunteer hours) not confirmed yet."""
    return [item.title for item in progress.items if not item.met]


def offset_reached(cycle_end: date, on: date, offsets: Sequence[int]) -> int | None:
    """The nearest offset whose day has come (days left <= offset), ``None`` if none or past the end."""
    days_left = (cycle_end - on).days
    if days_left < 0:
        return None
    reached = [days for days in offsets if days >= days_left]
    return min(reached) if reached else None


def due_reminders(session: Session, rulebook: Rulebook, *, on: date, offsets: Sequence[int],
                  zone: tzinfo) -> list[DueReminder]:
    """Reminders due on ``on`` that were never made, in learner and credential order."""
    opted_out = select(models.ReminderOptOut.learner_id)
    rows = session.scalars(
        select(models.Learner)
        .where(models.Learner.email.is_not(None), models.Learner.email != "",
               models.Learner.id.not_in(opted_out),
               models.Learner.id.in_(select(models.LearnerCredential.learner_id)))
        .order_by(models.Learner.id))
    due: list[DueReminder] = []
    for learner in rows:
        if learner.email is None or mailbox(learner.email) is None:
            log.warning("reminders: learner %s skipped: their e-mail address is not one plain address",
                        learner.id)
            continue
        try:
            key = learners.LearnerKey(learner.source_id, learner.lms_user_id)
            results = learners.progress(session, rulebook, key=key, on=on, zone=zone)
        except UnknownCredential as exc:
            log.warning("reminders: learner %s skipped: %s", learner.id, exc)
            continue
        for result in results:
            reminder = _due(learner, result, on, offsets)
            if reminder is not None:
                due.append(reminder)
    made = set(session.scalars(select(models.Reminder.idempotency_key).where(
        models.Reminder.idempotency_key.in_([d.key for d in due])))) if due else set()
    return [d for d in due if d.key not in made]


def _due(learner: models.Learner, result: api.Progress, on: date, offsets: Sequence[int]) -> DueReminder | None:
    if result.cycle_end is None or result.ready:
        return None
    offset = offset_reached(result.cycle_end, on, offsets)
    if offset is None:
        return None
    assert learner.email is not None
    return DueReminder(
        key=reminder_key(learner.id, result.credential, result.cycle_end, offset), learner_id=learner.id,
        learner_name=learner.name, email=learner.email, source_id=learner.source_id,
        credential=result.credential, cycle_end=result.cycle_end, offset_days=offset,
        days_left=(result.cycle_end - on).days, progress=result)


def no_longer_due(session: Session, rulebook: Rulebook, *, on: date, now: datetime, zone: tzinfo) -> list[int]:
    """Pending reminders (not held by a delivery) whose learner no longer needs them on ``on``: the
    requirement was met since the reminder was made (say, while the mail server was down), or its
    cycle is over or no longer the learner's. Sending it would tell them to earn what they have."""
    pending = list(session.scalars(select(models.Reminder).where(
        models.Reminder.status == ReminderStatus.PENDING, models.Reminder.next_attempt_at <= now)
        .order_by(models.Reminder.id)))
    progress: dict[int, dict[tuple[str, date | None], api.Progress] | None] = {}
    stale = []
    for reminder in pending:
        if reminder.learner_id not in progress:
            learner = session.get(models.Learner, reminder.learner_id)
            try:
                progress[reminder.learner_id] = {
                    (r.credential, r.cycle_end): r for r in learners.progress(
                        session, rulebook, key=learners.LearnerKey(learner.source_id, learner.lms_user_id),
                        on=on, zone=zone)
                } if learner is not None else {}
            except UnknownCredential as exc:
                log.warning("reminders: learner %s not re-checked: %s", reminder.learner_id, exc)
                progress[reminder.learner_id] = None
        results = progress[reminder.learner_id]
        if results is None:
            continue
        result = results.get((reminder.credential, reminder.cycle_end))
        if result is None or on > reminder.cycle_end or result.ready:
            stale.append(reminder.id)
    return stale
