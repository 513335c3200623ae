"""Which completions an LMS reports the tool has already, so reconciliation stores only the others.

A completion is the learner, the course and its time. Canvas keeps one completion per course
(:attr:`~lti_tool.events.completion.Completion.once_per_course`), so any completion of the learner
and course is the one reported. Elsewhere a later completion is a retake (a course reset), which
earns again in a later cycle: only a completion at the same time, or pushed a little later, is the
same one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.pull.found import Found


def known_learners(session: Session, identity_id: int, course_id: str) -> dict[str, datetime]:
    """The learners with a completion of the course, each with their latest one's time (through
    any source sharing the identities: learners are stored under the identity source)."""
    rows = session.execute(
        select(models.Learner.lms_user_id, func.max(models.CourseCompletion.completed_at))
        .join(models.CourseCompletion, models.CourseCompletion.learner_id == models.Learner.id)
        .where(models.Learner.source_id == identity_id, models.CourseCompletion.course_id == course_id)
        .group_by(models.Learner.lms_user_id))
    return {str(user): _aware(when) for user, when in rows}


PUSH_LAG = timedelta(days=1)
"""How much later than the LMS's record of a completion its pushed event may be dated: Moodle
creates ``course_completed`` when its cron marks the course complete, after the last criterion's
``timecompleted`` that the web services give. A pulled completion with a known completion of the
same learner and course at most this much later is that completion, not a retake."""


def known_pairs(session: Session, identity_id: int,
                found: Iterable[Found]) -> dict[tuple[str, str], list[datetime]]:
    """The known completions of the learners and courses found: (learner, course) -> their times."""
    users = {f.completion.lms_user_id for f in found}
    courses = {f.completion.course_id for f in found}
    rows = session.execute(
        select(models.Learner.lms_user_id, models.CourseCompletion.course_id, models.CourseCompletion.completed_at)
        .join(models.CourseCompletion, models.CourseCompletion.learner_id == models.Learner.id)
        .where(models.Learner.source_id == identity_id, models.Learner.lms_user_id.in_(users),
               models.CourseCompletion.course_id.in_(courses)))
    known: dict[tuple[str, str], list[datetime]] = {}
    for user, course, when in rows:
        known.setdefault((str(user), str(course)), []).append(_aware(when))
    return known


def is_known(found: Found, known: dict[tuple[str, str], list[datetime]]) -> bool:
    """Whether the tool has this completion already. A course an LMS keeps one completion of
    (Canvas: :attr:`Completion.once_per_course`) is known once the learner completed it at all;
    otherwise only a completion at the same time, or pushed at most :data:`PUSH_LAG` later, is: a
    later one is a retake (a course reset), which earns again in a later cycle."""
    completion = found.completion
    times = known.get((completion.lms_user_id, completion.course_id))
    if not times:
        return False
    if completion.once_per_course:
        return True
    at = _aware(completion.completed_at)
    return any(at <= when <= at + PUSH_LAG for when in times)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
