"""What every parser produces: ids trimmed and within their columns, descriptive text cut to fit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column

from lti_tool import models
from lti_tool.events.completion import LIMITS, BadEvent, Completion

AT = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_limits_are_the_lengths_of_the_columns_that_store_them() -> None:
    columns: dict[str, list[Column[str]]] = {
        "lms_user_id": [models.Learner.__table__.c.lms_user_id],
        "course_id": [models.CourseCompletion.__table__.c.course_id, models.Award.__table__.c.course_id,
                      models.CourseMapping.__table__.c.course_id],
        "learner_name": [models.Learner.__table__.c.name],
        "learner_email": [models.Learner.__table__.c.email],
        "course_name": [models.CourseCompletion.__table__.c.course_name],
    }
    assert {name: {c.type.length for c in cols} for name, cols in columns.items()} == {
        name: {limit} for name, limit in LIMITS.items()}


def test_ids_are_trimmed() -> None:
    completion = Completion(lms_user_id=" 42 ", course_id="https://lms.example/course/7  ", completed_at=AT)
    assert (completion.lms_user_id, completion.course_id) == ("42", "https://lms.example/course/7")


@pytest.mark.parametrize(("user", "course", "reason"), [
    ("   ", "565", "the learner id is empty"),
    ("42", "x" * 2001, "the course id is longer than 2000 characters"),
    ("x" * 256, "565", "the learner id is longer than 255 characters"),
])
def test_an_id_that_cannot_be_stored_is_a_malformed_event(user: str, course: str, reason: str) -> None:
    with pytest.raises(BadEvent, match=reason):
        Completion(lms_user_id=user, course_id=course, completed_at=AT)


def test_a_course_id_padded_with_spaces_past_its_column_is_trimmed_not_refused() -> None:
    assert Completion(lms_user_id="1", course_id="565" + " " * 2100, completed_at=AT).course_id == "565"


def test_descriptive_text_is_cut_to_fit_and_an_address_too_long_is_dropped() -> None:
    completion = Completion(lms_user_id="1", course_id="565", completed_at=AT, learner_name="N" * 300,
                            course_name=" C " * 300, learner_email="a" * 320 + "@example.org")
    assert completion.learner_name == "N" * 255
    assert completion.course_name is not None and len(completion.course_name) == 500
    assert completion.learner_email is None
    assert Completion(lms_user_id="1", course_id="565", completed_at=AT, learner_email=" pat@example.org ",
                      learner_name="  ").learner_email == "pat@example.org"
