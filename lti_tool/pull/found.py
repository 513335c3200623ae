"""What a pull client yields: completions found, with what the LMS said about each."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lti_tool.events.completion import Completion


@dataclass(frozen=True)
class Found:
    completion: Completion
    raw: dict[str, Any]
    """The LMS's record of it, stored as the event's body (as a pushed event's body is)."""


@dataclass
class Page:
    """One answer's worth: how many users it covered and the completions among them."""

    users_checked: int = 0
    found: list[Found] = field(default_factory=list)
    known: int = 0
    """Completions the client did not ask about because the tool knows them already."""
    watermark: datetime | None = None
    """How far the feed has been read (the LRS's ``stored`` time), when the client knows."""


class PullClient(Protocol):
    per_course: bool
    """True: asked course by course (Canvas, Moodle); False: one feed for the source (LRS)."""

    def pull(self, course_id: str | None, *, known: Mapping[str, datetime],
             since: datetime | None) -> Iterator[Page]:
        """The completions of ``course_id`` (or of the whole feed), page by page; ``known`` maps the
        learner ids whose completion of the course the tool has already to the latest such
        completion's time (a learner may complete the course again: a retake)."""
        ...
