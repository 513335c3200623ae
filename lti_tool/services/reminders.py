"""Renewal reminders: plan what is due, store each reminder once, deliver with retries.

``run_reminders`` is what the scheduler's ``reminders`` tick and ``lti-tool reminders run`` call.
Each reminder is stored (rendered, under its unique idempotency key) before any e-mail is sent, so a
crash, a doubled tick or a concurrent run cannot make a second one. Delivery works like exports: a
reminder is claimed with a lease (a conditional UPDATE), sent through the configured ``smtp``
destination outside any transaction, and recorded with the server's receipt; a failure is retried
with exponential backoff and goes dead after ``reminders.max_attempts`` or a permanent (5xx) refusal.
A crash between the server's acceptance and the record sends it again after the lease, with the same
``Message-ID``: at least once, never silently lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.credits.registry import Rulebook
from lti_tool.credits.rounding import normalized
from lti_tool.db import read_session, write_session
from lti_tool.exports.base import DeliveryError
from lti_tool.exports.config import Exports
from lti_tool.exports.smtp import SmtpDestination
from lti_tool.lti.registration import CANVAS_CLOUD_ISSUERS
from lti_tool.row_writes import insert_or_skip
from lti_tool.services import reminder_mail
from lti_tool.services.export_retries import backoff_seconds
from lti_tool.services.reminder_optout import opted_out, unsubscribe_token
from lti_tool.services.reminder_plan import DueReminder, due_reminders, no_longer_due
from lti_tool.settings import Settings
from lti_tool.states import ReminderStatus

log = logging.getLogger(__name__)


class RemindersNotConfigured(ValueError):
    """``[reminders]`` names no usable smtp destination, or the tool's public URL is not set."""


@dataclass
class ReminderReport:
    dry_run: bool
    due: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "due": self.due, "sent": self.sent, "failed": self.failed}


def mail_destination(settings: Settings, exports: Exports) -> SmtpDestination:
    name = settings.reminders.destination
    destination = exports.destinations.get(name) if name else None
    if not isinstance(destination, SmtpDestination):
        raise RemindersNotConfigured(
            f"reminders.destination {name!r} is not an smtp destination of {settings.exports_file}")
    if not settings.lti.public_url:
        raise RemindersNotConfigured("reminders need lti.public_url: their links point to the tool")
    return destination


def run_reminders(sessions: sessionmaker[Session], rulebook: Rulebook, settings: Settings, exports: Exports,
                  *, on: date, now: datetime | None = None, dry_run: bool = False) -> ReminderReport:
    """Make the reminders due on ``on`` and deliver every pending one whose time has come."""
    destination = mail_destination(settings, exports)
    report = ReminderReport(dry_run=dry_run)
    offsets = settings.reminders.offsets_days
    if dry_run:
        with read_session(sessions) as session:
            report.due = [d.as_json() for d in due_reminders(session, rulebook, on=on, offsets=offsets,
                                                             zone=settings.zone)]
        return report
    with write_session(sessions) as session:
        for due in due_reminders(session, rulebook, on=on, offsets=offsets, zone=settings.zone):
            if store(session, due, rulebook, settings) is not None:
                report.due.append(due.as_json())
    now = now or models.utcnow()
    with write_session(sessions) as session:
        for reminder_id in no_longer_due(session, rulebook, on=on, now=now, zone=settings.zone):
            cancelled = cast(CursorResult[Any], session.execute(update(models.Reminder).where(
                models.Reminder.id == reminder_id, models.Reminder.status == ReminderStatus.PENDING,
                models.Reminder.next_attempt_at <= now).values(status=ReminderStatus.CANCELLED)))
            if cancelled.rowcount == 1:
                log.info("reminder %s cancelled: its learner no longer needs it", reminder_id)
                report.failed.append({"id": reminder_id, "status": ReminderStatus.CANCELLED,
                                      "reason": "no longer needed"})
    with read_session(sessions) as session:
        pending = list(session.scalars(select(models.Reminder.id).where(
            models.Reminder.status == ReminderStatus.PENDING, models.Reminder.next_attempt_at <= now)
            .order_by(models.Reminder.id)))
    sender = settings.reminders.sender or str(destination.options["from"])
    for reminder_id in pending:
        outcome = deliver(sessions, reminder_id, destination, settings, sender, now)
        if outcome is not None:
            (report.sent if outcome["status"] == ReminderStatus.SENT else report.failed).append(outcome)
    return report


def store(session: Session, due: DueReminder, rulebook: Rulebook, settings: Settings) -> int | None:
    """The reminder rendered and stored under its key; ``None`` if it exists already."""
    rule = rulebook.get(due.credential)
    content = reminder_mail.ReminderContent(
        learner_name=due.learner_name, title=rule.title, body=rule.body, unit=due.progress.unit,
        earned=str(normalized(due.progress.earned)), required=str(normalized(due.progress.required)),
        deadline=due.cycle_end.isoformat(), days_left=due.days_left, needs=due.needs(),
        page_url=page_url(session, due.source_id, settings),
        unsubscribe_url=unsubscribe_url(session, due.learner_id, settings))
    return insert_or_skip(session, models.Reminder.__table__, {
        "idempotency_key": due.key, "learner_id": due.learner_id, "credential": due.credential,
        "cycle_end": due.cycle_end, "offset_days": due.offset_days, "email": due.email,
        "subject": reminder_mail.subject(content), "text_body": reminder_mail.text_body(content),
        "html_body": reminder_mail.html_body(content), "status": ReminderStatus.PENDING, "attempts": 0,
        "next_attempt_at": models.utcnow(), "created_at": models.utcnow()}, ["idempotency_key"])


def page_url(session: Session, source_id: int, settings: Settings) -> str:
    """Where the learner opens their page: the LMS that launches the tool, else the tool itself.

    Canvas Cloud's issuer (https://canvas.instructure.com) is shared by every school and is not the
    learner's Canvas, so it is never the link."""
    issuers = session.scalars(select(models.Platform.issuer).where(
        models.Platform.source_id == source_id, models.Platform.status == "active").order_by(models.Platform.id))
    for issuer in issuers:
        if urlsplit(issuer).netloc not in CANVAS_CLOUD_ISSUERS:
            return issuer
    return settings.lti.public_url.rstrip("/") + "/lti/home"


def unsubscribe_url(session: Session, learner_id: int, settings: Settings) -> str:
    return f"{settings.lti.public_url.rstrip('/')}/reminders/unsubscribe/{unsubscribe_token(session, learner_id)}"


def deliver(sessions: sessionmaker[Session], reminder_id: int, destination: SmtpDestination,
            settings: Settings, sender: str, now: datetime) -> dict[str, Any] | None:
    """One delivery attempt of a pending reminder; ``None`` if another run holds it."""
    # The lease runs from the clock, not from the run's ``now``: a run that has been sending for
    # longer than a lease would otherwise take a reminder with a lease already over, and another run
    # could take it at the same time and send it twice.
    held_until = max(now, models.utcnow()) + timedelta(seconds=settings.exports.lease_seconds)
    with write_session(sessions) as session:
        claim = cast(CursorResult[Any], session.execute(update(models.Reminder).where(
            models.Reminder.id == reminder_id, models.Reminder.status == ReminderStatus.PENDING,
            models.Reminder.next_attempt_at <= now,
        ).values(attempts=models.Reminder.attempts + 1, next_attempt_at=held_until)))
        claimed = claim.rowcount == 1
        if not claimed:
            return None
        reminder = session.get(models.Reminder, reminder_id)
        assert reminder is not None
        if opted_out(session, reminder.learner_id):
            reminder.status = ReminderStatus.CANCELLED
            log.info("reminder %s cancelled: learner %s unsubscribed", reminder.id, reminder.learner_id)
            return {"id": reminder.id, "status": ReminderStatus.CANCELLED, "key": reminder.idempotency_key}
        try:
            msg = reminder_mail.compose(
                key=reminder.idempotency_key, sender=sender, to=reminder.email, subject=reminder.subject,
                text=reminder.text_body, html=reminder.html_body,
                unsubscribe_url=unsubscribe_url(session, reminder.learner_id, settings),
                domain=str(destination.options.get("domain", "lti-tool")))
        except ValueError as exc:  # a header the e-mail library refuses: no retry can mend it
            reminder.status, reminder.last_error = ReminderStatus.DEAD, f"cannot compose: {exc}"[:1000]
            log.error("reminder %s dead: cannot compose the message: %s", reminder.id, exc)
            return {"id": reminder.id, "status": ReminderStatus.DEAD, "key": reminder.idempotency_key,
                    "attempt": reminder.attempts,
                    "error": reminder.last_error, "retry_at": None}
        attempt, key = reminder.attempts, reminder.idempotency_key
    try:
        refused = destination.send(msg, [msg["To"]])
    except DeliveryError as exc:
        return _failed(sessions, reminder_id, attempt, key, exc, settings, now)
    receipt = {"message_id": msg["Message-ID"], "recipients": [msg["To"]], "refused": refused,
               "destination": destination.name}
    with write_session(sessions) as session:
        session.execute(update(models.Reminder).where(models.Reminder.id == reminder_id).values(
            status=ReminderStatus.SENT, receipt=receipt, sent_at=models.utcnow(), last_error=None))
    log.info("reminder %s sent to learner %s (attempt %d)", reminder_id, msg["To"], attempt)
    return {"id": reminder_id, "status": ReminderStatus.SENT, "key": key, "attempt": attempt, "receipt": receipt}


def _failed(sessions: sessionmaker[Session], reminder_id: int, attempt: int, key: str, exc: DeliveryError,
            settings: Settings, now: datetime) -> dict[str, Any]:
    dead = exc.permanent or attempt >= settings.reminders.max_attempts
    retry_at = now + timedelta(seconds=backoff_seconds(attempt, settings.exports, exc.retry_after))
    with write_session(sessions) as session:
        # Only the attempt's own lease records its failure: a reminder another run has sent since
        # (after this lease ran out) stays sent and is never queued again.
        session.execute(update(models.Reminder).where(
            models.Reminder.id == reminder_id, models.Reminder.status == ReminderStatus.PENDING,
            models.Reminder.attempts == attempt,
        ).values(status=ReminderStatus.DEAD if dead else ReminderStatus.PENDING, last_error=str(exc)[:1000],
                 next_attempt_at=retry_at))
    log.warning("reminder %s attempt %d %s: %s", reminder_id, attempt,
                "dead" if dead else f"failed, retry at {retry_at:%Y-%m-%d %H:%M:%S}Z", exc)
    return {"id": reminder_id, "status": ReminderStatus.DEAD if dead else "failed", "key": key, "attempt": attempt,
            "error": str(exc), "retry_at": None if dead else retry_at.isoformat()}
