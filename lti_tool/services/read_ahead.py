"""PostgreSQL: a batch's first statements sent together, one round trip instead of five.

A batch of events is bound by round trips on PostgreSQL, not by the server's work: each statement
waits for the one before. The events' insert, the learners' upsert and the reads crediting needs
(the completions' first times, the learners' holdings, the courses' mappings) do not depend on
each other's answers, so they go out in one pipeline (:func:`lti_tool.row_inserts.pipelined`).
The reads name learners by their key, not their id: they run after the upsert, in the same
transaction, so they see every learner of the batch, new or not.

What the statements decide is unchanged: the upsert is :func:`lti_tool.services.learners.record_learners`'
(same conflict key, a ``None`` keeps the stored name or e-mail), and the reads are
:func:`lti_tool.services.completions._first_times`', :func:`lti_tool.services.crediting._holdings`'
and :func:`lti_tool.services.crediting.find_mapping_terms`'.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from lti_tool import models
from lti_tool.credits import api
from lti_tool.db import table_of
from lti_tool.row_inserts import bound_values, insert_statement, pipelined, rows_per_statement
from lti_tool.services.crediting import MappingRow
from lti_tool.services.learners import SeenLearner

_LEARNERS = table_of(models.Learner)
_LEARNER_COLUMNS = ("source_id", "lms_user_id", "name", "email", "created_at")
_UPSERT = (" ON CONFLICT (source_id, lms_user_id) DO UPDATE SET "
           "name = coalesce(excluded.name, learners.name), email = coalesce(excluded.email, learners.email) "
           "RETURNING id, source_id, lms_user_id")
_KEYS = "SELECT * FROM unnest(%s::integer[], %s::varchar[])"
_FIRST_TIMES = (
    "SELECT l.id, c.course_id, min(c.completed_at) FROM course_completions c JOIN learners l ON l.id = c.learner_id "
    "WHERE (l.source_id, l.lms_user_id, c.course_id) IN "
    "(SELECT * FROM unnest(%s::integer[], %s::varchar[], %s::varchar[])) GROUP BY l.id, c.course_id"
)
_HOLDINGS = (
    "SELECT l.id, h.credential, h.certified_on, h.cycle_start, h.number FROM learner_credentials h "
    f"JOIN learners l ON l.id = h.learner_id WHERE (l.source_id, l.lms_user_id) IN ({_KEYS})"
)
_MAPPINGS = (
    "SELECT source_id, course_id, minutes, use_measured_time, max_minutes, activity, facts, credentials "
    f"FROM course_mappings WHERE (source_id, course_id) IN ({_KEYS})"
)


@dataclass(frozen=True)
class ReadAhead:
    """What crediting a batch reads, read before its completions are inserted."""

    learner_ids: list[int]
    """Each learner's id, in the order given."""
    first_times: dict[tuple[int, str], datetime]
    """Stored completions' first time, by (learner id, course), for the ``once_per_course`` ones."""
    holdings: dict[tuple[int, str], api.Holding]
    """By (learner id, credential)."""
    mappings: dict[tuple[int, str], MappingRow | None]
    """By (identity source, course): every course the batch names (``None``: unmapped)."""


def fits(connection: Connection, learners: int) -> bool:
    """On PostgreSQL, with the learners' upsert in one statement (else the caller takes the usual path)."""
    return connection.dialect.name == "postgresql" and \
        0 < learners <= rows_per_statement(connection.dialect, len(_LEARNER_COLUMNS))


def insert_and_read_ahead(
    connection: Connection, first: tuple[str, tuple[Any, ...]], seen: list[SeenLearner],
    once_per_course: list[tuple[SeenLearner, str]], courses: set[tuple[int, str]],
) -> tuple[list[tuple[Any, ...]], ReadAhead]:
    """Run ``first`` (a statement returning rows: the events' insert), then upsert the learners
    and read the batch's first times, holdings and mappings, all in one round trip; return the
    rows of ``first`` and what was read. ``once_per_course`` pairs a learner with a course whose
    first time is wanted."""
    dialect = connection.dialect
    if not fits(connection, len(seen)):
        raise ValueError("read ahead on PostgreSQL, for one statement's worth of learners")
    dialect = connection.dialect
    merged = _merged(seen)
    now = models.utcnow()
    rows = [{"source_id": s.key.identity_id, "lms_user_id": s.key.lms_user_id, "name": s.name,
             "email": s.email, "created_at": now} for s in merged]
    ordered = sorted(courses)
    results = pipelined(connection, [
        first,
        (insert_statement(dialect, _LEARNERS, _LEARNER_COLUMNS, len(rows), _UPSERT),
         tuple(itertools.chain.from_iterable(bound_values(dialect, _LEARNERS, _LEARNER_COLUMNS, rows)))),
        (_FIRST_TIMES, ([s.key.identity_id for s, _ in once_per_course],
                        [s.key.lms_user_id for s, _ in once_per_course], [course for _, course in once_per_course])),
        (_HOLDINGS, ([s.key.identity_id for s in merged], [s.key.lms_user_id for s in merged])),
        (_MAPPINGS, ([source for source, _ in ordered], [course for _, course in ordered])),
    ])
    mappings: dict[tuple[int, str], MappingRow | None] = dict.fromkeys(ordered)
    for source_id, course_id, *terms in results[4]:
        mappings[(source_id, course_id)] = MappingRow(*terms)
    ids = {(source_id, lms_user_id): learner_id for learner_id, source_id, lms_user_id in results[1]}
    strangers = [key for key in ids if key not in {(s.key.identity_id, s.key.lms_user_id) for s in merged}]
    if strangers:
        raise ValueError(f"the database returned keys it was not sent: {strangers[:3]!r}")
    to_utc = _completed_at(connection)
    return results[0], ReadAhead(
        learner_ids=[int(ids[(s.key.identity_id, s.key.lms_user_id)]) for s in seen],
        first_times={(learner_id, course_id): to_utc(when) for learner_id, course_id, when in results[2]},
        holdings={(learner_id, credential): api.Holding(credential, certified_on, cycle_start, number)
                  for learner_id, credential, certified_on, cycle_start, number in results[3]},
        mappings=mappings,
    )


def _merged(seen: list[SeenLearner]) -> list[SeenLearner]:
    """One learner per key, in key order (one statement may not update a row twice; concurrent
    upserts lock rows in the same order), later non-null names and e-mails winning, as
    :func:`lti_tool.db.upsert_many` merges."""
    merged: dict[tuple[int, str], SeenLearner] = {}
    for s in seen:
        key = (s.key.identity_id, s.key.lms_user_id)
        earlier = merged.get(key)
        merged[key] = s if earlier is None else SeenLearner(
            earlier.key, s.name if s.name is not None else earlier.name,
            s.email if s.email is not None else earlier.email)
    return [merged[key] for key in sorted(merged)]


def _completed_at(connection: Connection) -> Callable[[Any], Any]:
    """What SQLAlchemy makes of a stored completion time (a UTC-aware datetime)."""
    column = table_of(models.CourseCompletion).c.completed_at
    process = column.type.dialect_impl(connection.dialect).result_processor(connection.dialect, None)
    return process if process is not None else (lambda value: value)
