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

    def __post_init__(self) -> None:
        """Ids are trimmed and must fit their columns (a malformed event, 400); descriptive text
        that does not fit is cut, and an address that does not fit is dropped."""
        for name, label in (("lms_user_id", "learner id"), ("course_id", "course id")):
            value = str(getattr(self, name)).strip()
            if not value:
                raise BadEvent(f"the {label} is empty")
            if len(value) > LIMITS[name]:
                raise BadEvent(f"the {label} is longer than {LIMITS[name]} characters")
            object.__setattr__(self, name, value)
        for name in ("learner_name", "course_name"):
            text = getattr(self, name)
            if text is not None:
                object.__setattr__(self, name, text.strip()[: LIMITS[name]] or None)
        email = self.learner_email.strip() if self.learner_email else None
        object.__setattr__(self, "learner_email", email if email and len(email) <= LIMITS["learner_email"] else None)


LIMITS = {"lms_user_id": 255, "course_id": 2000, "learner_name": 255, "learner_email": 320, "course_name": 500}
"""The longest value each field's column holds (tests keep them equal to the models)."""


@dataclass(frozen=True)
class Ignored:
    """A well-formed event that does not credit (another event name, another verb)."""

    reason: str


ParsedEvent = Completion | Ignored


class BadEvent(ValueError):
    """The body is malformed: answered with 400 and a one-line reason; nothing is stored."""


class BadSignature(Exception):
    """The body's signature or credentials do not verify: answered with 401; nothing is stored."""
