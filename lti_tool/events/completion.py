"""What every event source is parsed into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Completion:
    """A learner completed a course in an LMS.

    Identities are the LMS's own: ``lms_user_id`` and ``course_id`` are strings as the source gives
    them (Canvas local ids, Moodle ids, xAPI account name or mbox and activity id).
    """

    lms_user_id: str
    course_id: str
    completed_at: datetime
    """Timezone-aware (UTC) time of completion as the LMS reports it."""
    measured_minutes: int | None = None
    """Contact time the LMS measured (xAPI ``result.duration``), whole minutes rounded down."""
    learner_name: str | None = None
    learner_email: str | None = None
    course_name: str | None = None
    external_id: str | None = None
    """The LMS's id of this event or statement, when it gives one."""


@dataclass(frozen=True)
class Ignored:
    """A well-formed event that does not credit (another event name, another verb)."""

    reason: str


ParsedEvent = Completion | Ignored


class BadEvent(ValueError):
    """The body is malformed: answered with 400 and a one-line reason; nothing is stored."""


class BadSignature(Exception):
    """The body's signature or credentials do not verify: answered with 401; nothing is stored."""
