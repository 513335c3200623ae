"""Helpers for page tests: record completions through the real ingestion service, read CSRF tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient

from lti_tool.events.completion import Completion
from lti_tool.runtime import Runtime
from lti_tool.services.ingestion import Outcome, Submission, record_events

CREDENTIAL = "iacet-ceu"
"""A built-in credential (IACET CEU: contact hours / 10); see config/mappings.example.toml."""


def complete(runtime: Runtime, source_id: int, user: str, course: str, name: str | None = None) -> Outcome:
    completion = Completion(lms_user_id=user, course_id=course, learner_name=name,
                            completed_at=datetime(2026, 11, 2, 15, 0, tzinfo=UTC))
    [outcome] = record_events(runtime.sessions, runtime.rulebook,
                              [Submission(source_id, source_id, "{}", "application/json", [completion])])
    assert isinstance(outcome, Outcome), outcome
    return outcome


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def mapping_form(token: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token, "title": "HIPAA basics", "minutes": "120", "activity": "education",
            "credentials": CREDENTIAL, "first_time": "on", "credit_existing": "on", "action": "save", **fields}
