"""What every event source is parsed into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lti_tool.text import BadText, checked, one_line

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
"""A completion is dated from 1970 to a day after now (clock skew); anything else is refused."""
MAX_MINUTES = 2**31 - 1


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
    once_per_course: bool = False
    """A later completion of the same learner and course is this same completion, re-fired: Canvas
    fires ``course_completed`` again, with a later time, when a module's completion time changes or a
    requirement is added and met, and it keeps no retake under a course id (a course reset makes a
    new course). Crediting then records it under the first completion time (``duplicate``)."""

    def __post_init__(self) -> None:
        """Ids are trimmed and must fit their columns (a malformed event, 400); descriptive text
        that does not fit is cut, and an address that does not fit is dropped."""
        for name, label in (("lms_user_id", "learner id"), ("course_id", "course id")):
            value = str(getattr(self, name)).strip()
            if not value:
                raise BadEvent(f"the {label} is empty")
            if len(value) > LIMITS[name]:
                raise BadEvent(f"the {label} is longer than {LIMITS[name]} characters")
            try:
                checked(value, label, LIMITS[name])
            except BadText as exc:
                raise BadEvent(str(exc)) from None
            object.__setattr__(self, name, value)
        if self.completed_at.tzinfo is None:
            raise BadEvent("the completion time has no time zone")
        if not EARLIEST <= self.completed_at <= datetime.now(UTC) + FUTURE_SLACK:
            raise BadEvent(f"the completion time {self.completed_at.isoformat()} is before 1970 or "
                           "more than a day ahead")
        if self.measured_minutes is not None and not 0 <= self.measured_minutes <= MAX_MINUTES:
            raise BadEvent("the measured duration is out of range")
        for name in ("learner_name", "course_name", "learner_email", "external_id"):
            text = getattr(self, name)
            if text is not None:
                try:
                    checked(text, name, 10**6, multiline=True, required=False)
                except BadText as exc:
                    raise BadEvent(str(exc)) from None
        for name in ("learner_name", "course_name"):
            text = getattr(self, name)
            if text is not None:
                object.__setattr__(self, name, one_line(text)[: LIMITS[name]] or None)
        email = one_line(self.learner_email) if self.learner_email else None
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
