"""The few statements a batch of events takes: what they decide is what the one-at-a-time statements decide.

On PostgreSQL a batch's awards, their credit entries and claims are one statement (a chain of
data-modifying CTEs), and its first statements go out together (``pipelined``); on SQLite the
awards, entries and claims are a statement each. The same assertions hold on both.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.repeats import RepeatKey
from lti_tool.db import flushed_connection, write_session
from lti_tool.driver_statements import pipelined
from lti_tool.events.completion import Completion
from lti_tool.runtime import Runtime
from lti_tool.services import ledger, read_ahead
from lti_tool.services.learners import LearnerKey, SeenLearner
from tests.exports.ledger_rows import COMPLETED, learner
from tests.spine import import_mapping


def _completion(runtime: Runtime, user: str, course: str) -> ledger.KnownCompletion:
    with write_session(runtime.sessions) as session:
        person = learner(session, user)
        event = models.LmsEvent(source_id=person.source_id, body="{}", parsed=[], status="processed")
        session.add(event)
        session.flush()
        completion = models.CourseCompletion(learner_id=person.id, source_id=person.source_id, course_id=course,
                                             completed_at=COMPLETED, event_id=event.id)
        session.add(completion)
        session.flush()
        return ledger.KnownCompletion(completion.id, person.id, person.source_id, course, COMPLETED, None)


def _award(completion: ledger.KnownCompletion, credential: str, amount: str, period: str) -> ledger.NewAward:
    return ledger.NewAward(
        completion, api.Award(credential=credential, amount=Decimal(amount), unit="CME", reason=f"{amount} for it"),
        api.Activity(minutes=90), f"{credential}/1", {"step": "0.5"},
        key=RepeatKey(f"course:{completion.course_id}", period, period))


def _ledger(runtime: Runtime) -> list[tuple[int, str, Decimal, str, str]]:
    """Each claim with its entry: (award, kind, amount, credential, idempotency key)."""
    with runtime.sessions() as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(models.LedgerEntry.award_id, models.LedgerEntry.kind, models.LedgerEntry.amount,
                   models.OutboxClaim.credential, models.OutboxClaim.idempotency_key)
            .join(models.OutboxClaim, models.OutboxClaim.ledger_entry_id == models.LedgerEntry.id)
            .order_by(models.LedgerEntry.award_id))]


def _count(runtime: Runtime, model: type) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_new_awards_get_one_credit_entry_and_one_claim_keyed_as_idempotency_key_keys_it(runtime: Runtime) -> None:
    first, second = _completion(runtime, "1", "565"), _completion(runtime, "2", "565")
    awards = [
        _award(first, "acmss-cmss", "1.5", "year:2026"),  # stored as 1.5000 on PostgreSQL: the key says 1.5
        _award(second, "acmss-cmss", "0.25", "year:2026"),
        _award(first, "acmss-cmss", "9", "year:2026"),  # the first's award key again, in the same call
        _award(first, "iacet-ceu", "0.2", "year:2026"),
    ]
    with write_session(runtime.sessions) as session:
        ids = ledger.record_awards(session, awards)
    assert ids[2] is None and all(isinstance(i, int) for i in (ids[0], ids[1], ids[3]))
    assert _ledger(runtime) == sorted(
        (award_id, "credit", Decimal(new.result.amount), new.result.credential,
         ledger.idempotency_key(new.result.credential, award_id, models.EntryKind.CREDIT, new.result.amount))
        for award_id, new in zip(ids, awards, strict=True) if award_id is not None)


def test_an_award_met_again_by_either_key_gets_no_entry_and_no_claim(runtime: Runtime) -> None:
    first = _completion(runtime, "1", "565")
    with write_session(runtime.sessions) as session:
        [award_id] = ledger.record_awards(session, [_award(first, "acmss-cmss", "1.5", "year:2026")])
    before = _ledger(runtime)
    again = [
        _award(first, "acmss-cmss", "1.5", "year:2026"),  # the same award key
        _award(first, "acmss-cmss", "1.5", "year:2027"),  # the same completion and credential, another period
    ]
    with write_session(runtime.sessions) as session:
        assert ledger.record_awards(session, again) == [None, None]
    assert _ledger(runtime) == before and len(before) == 1 and before[0][0] == award_id
    assert _count(runtime, models.Award) == _count(runtime, models.LedgerEntry) == _count(runtime, models.OutboxClaim) == 1


def test_pipelined_statements_answer_in_order_and_see_what_the_earlier_ones_wrote(runtime: Runtime) -> None:
    with write_session(runtime.sessions) as session:
        person = learner(session, "1")
        connection = flushed_connection(session)
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        rows = pipelined(connection, [
            (f"UPDATE learners SET name = {mark} WHERE id = {mark} RETURNING id", ("Renamed", person.id)),
            (f"SELECT name FROM learners WHERE id = {mark}", (person.id,)),
            ("SELECT 1 WHERE 1 = 0", ()),
        ])
    assert rows == [[(person.id,)], [("Renamed",)], []]


def test_reading_ahead_upserts_the_learners_and_reads_what_crediting_reads(runtime: Runtime) -> None:
    stored = _completion(runtime, "1", "565")
    with write_session(runtime.sessions) as session:
        session.add(models.LearnerCredential(learner_id=stored.learner_id, credential="acmss-cmss", number="A-1"))
    source = stored.source_id
    seen = [SeenLearner(LearnerKey(source, "new"), "New Person", None),
            SeenLearner(LearnerKey(source, "1"), None, "one@example.org"),
            SeenLearner(LearnerKey(source, "new"), None, "new@example.org")]
    with write_session(runtime.sessions) as session:
        connection = flushed_connection(session)
        returned, ahead = read_ahead.reserve_and_read_ahead(
            connection, ("SELECT 7", ()), seen, [(seen[1], "565"), (seen[0], "565")],
            {(source, "565"), (source, "unmapped")})
    with runtime.sessions() as session:
        people = {p.lms_user_id: p for p in session.scalars(select(models.Learner))}
    assert returned == [(7,)]
    assert ahead.learner_ids == [people["new"].id, stored.learner_id, people["new"].id]
    assert (people["new"].name, people["new"].email) == ("New Person", "new@example.org")
    assert (people["1"].name, people["1"].email) == ("Learner 1", "one@example.org")  # None keeps the name
    assert ahead.first_times == {(stored.learner_id, "565"): COMPLETED}
    assert ahead.holdings == {(stored.learner_id, "acmss-cmss"): api.Holding("acmss-cmss", number="A-1")}
    assert ahead.mappings == {(source, "565"): None, (source, "unmapped"): None}


def test_reading_ahead_finds_a_courses_mapping(runtime: Runtime, cli_json: Callable[..., Any],
                                               tmp_path: Path) -> None:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="565", minutes=90, credentials=["acmss-cmss"])
    item = Completion(lms_user_id="u", course_id="565", completed_at=COMPLETED)
    with write_session(runtime.sessions) as session:
        _, ahead = read_ahead.reserve_and_read_ahead(
            flushed_connection(session), ("SELECT 1", ()), [SeenLearner(LearnerKey(source["id"], "u"))],
            [], {(source["id"], item.course_id)})
    mapping = ahead.mappings[(source["id"], "565")]
    assert mapping is not None and mapping.minutes == 90 and mapping.credentials == ["acmss-cmss"]
