"""Awards written straight through the ledger service (no LMS event parsing, no plugin), so export
tests depend only on the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.credits import api
from lti_tool.db import write_session
from lti_tool.services.ledger import record_award

COMPLETED = datetime(2026, 3, 4, 13, 38, tzinfo=UTC)


def learner(session: Session, user: str, *, source: str = "canvas-prod", number: dict[str, str] | None = None,
            name: str | None = None) -> models.Learner:
    src = session.scalar(select(models.Source).where(models.Source.name == source))
    if src is None:
        src = models.Source(kind="canvas", name=source, token_hash=f"t-{source}", secret_hash="s")
        session.add(src)
        session.flush()
    person = session.scalar(select(models.Learner).where(models.Learner.source_id == src.id,
                                                         models.Learner.lms_user_id == user))
    if person is None:
        person = models.Learner(source_id=src.id, lms_user_id=user, name=name or f"Learner {user}",
                                email=f"{user}@example.org")
        session.add(person)
        session.flush()
    for credential, value in (number or {}).items():
        session.add(models.LearnerCredential(learner_id=person.id, credential=credential, number=value))
    session.flush()
    return person


def credit(
    sessions: sessionmaker[Session], user: str, course: str, *, credential: str = "acmss-cmss",
    minutes: int = 60, amount: str = "1", completed_at: datetime = COMPLETED,
    number: str | None = None, body: dict[str, Any] | None = None,
) -> int:
    """An award (with ledger entry and outbox claim) for ``user`` completing ``course``."""
    with write_session(sessions) as session:
        person = learner(session, user, number={credential: number} if number else None)
        event = models.LmsEvent(source_id=person.source_id, content_type="application/json",
                                body=str(body or {"user": user, "course": course}), parsed=[], status="processed")
        session.add(event)
        session.flush()
        completion = session.scalar(select(models.CourseCompletion).where(
            models.CourseCompletion.learner_id == person.id, models.CourseCompletion.course_id == course))
        if completion is None:
            completion = models.CourseCompletion(learner_id=person.id, source_id=person.source_id,
                                                 course_id=course, course_name=f"Course {course}",
                                                 completed_at=completed_at, event_id=event.id)
            session.add(completion)
            session.flush()
        activity = api.Activity(minutes=minutes)
        award_id = record_award(
            session, completion, api.Award(credential=credential, amount=Decimal(amount), unit="CME",
                                           reason=f"{minutes} minutes"),
            activity=activity, rule_version=f"{credential}/1", settings={"step": "0.5"})
        assert award_id is not None
        return award_id
