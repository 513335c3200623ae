"""Listing awards: a course's awards are found through an index, and revoked ones say so."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.awards import list_awards, standing_awards
from lti_tool.services.ledger import revoke_award
from tests.exports.ledger_rows import credit


def test_a_course_s_awards_are_read_through_the_course_index(runtime: Runtime, is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("PostgreSQL's planner scans tables this small; bench/pages.py --explain shows its plan")
    credit(runtime.sessions, "1", "565")
    with read_session(runtime.sessions) as session:
        source_id = session.scalar(select(models.Source.id))
    statements: list[tuple[str, Any]] = []
    event.listen(runtime.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: statements.append((sql, params)))
    with read_session(runtime.sessions) as session:
        list_awards(session, identity_id=source_id, course="565")
    [(sql, params)] = [s for s in statements if "FROM awards" in s[0]]
    with runtime.engine.connect() as conn:
        plan = " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "ix_awards_course_roster" in plan, plan


def test_revoked_awards_are_listed_as_revoked(runtime: Runtime) -> None:
    kept = credit(runtime.sessions, "1", "565")
    revoked = credit(runtime.sessions, "2", "565")
    with write_session(runtime.sessions) as session:
        revoke_award(session, revoked, reason="course withdrawn")
    with read_session(runtime.sessions) as session:
        listed = {a["id"]: a["revoked"] for a in list_awards(session, course="565")}
    assert listed == {kept: False, revoked: True}


def test_a_learner_s_standing_awards_leave_out_revoked_ones_and_other_learners(runtime: Runtime) -> None:
    kept = credit(runtime.sessions, "1", "565", amount="1.5")
    revoked = credit(runtime.sessions, "1", "566")
    credit(runtime.sessions, "2", "565")
    with write_session(runtime.sessions) as session:
        revoke_award(session, revoked, reason="course withdrawn")
    with read_session(runtime.sessions) as session:
        source_id = session.scalar(select(models.Source.id))
        assert source_id is not None
        [award] = standing_awards(session, identity_id=source_id, user="1")
        listed = [a for a in list_awards(session, identity_id=source_id, user="1") if not a["revoked"]]
    assert [award.id] == [a["id"] for a in listed] == [kept]
    assert (award.credential, award.course, str(award.amount), award.unit) == (
        listed[0]["credential"], listed[0]["course"], listed[0]["amount"], listed[0]["unit"])
    assert award.completed_on == listed[0]["completed_at"][:10]
