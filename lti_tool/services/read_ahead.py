"""A batch's first statements: the events, the learners and what crediting reads, together.

On PostgreSQL a batch of events is bound by round trips, not by the server's work: each statement
waits for the one before. The events' insert, the learners' upsert and the reads crediting needs
(the completions' first times, the learners' holdings, the courses' mappings) do not depend on
each other's answers, so they go out in one pipeline (:func:`lti_tool.driver_statements.pipelined`):
one round trip instead of five. On SQLite (no round trips) they run one after another, as SQL
text with plain values, outside SQLAlchemy's statement machinery. The reads name learners by
their key, not their id: they run after the upsert, in the same transaction, so they see every
learner of the batch, new or not.

What the statements decide is unchanged: the upsert is :func:`lti_tool.services.learners.record_learners`'
(same conflict key, a ``None`` keeps the stored name or e-mail), and the reads are
:func:`lti_tool.services.completions._first_times`', :func:`lti_tool.services.crediting._holdings`'
and :func:`lti_tool.services.crediting.find_mapping_terms`', their values read as SQLAlchemy reads them.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

from lti_tool import models
from lti_tool.credits import api
from lti_tool.db import table_of
from lti_tool.driver_statements import pipelined
from lti_tool.row_inserts import bound_values, insert_statement, placeholder, rows_per_statement
from lti_tool.row_writes import ids_by_key
from lti_tool.services.crediting import MappingRow
from lti_tool.services.learners import SeenLearner

_LEARNERS = table_of(models.Learner)
_LEARNER_COLUMNS = ("source_id", "lms_user_id", "name", "email", "created_at")
_UPSERT = (" ON CONFLICT (source_id, lms_user_id) DO UPDATE SET "
           "name = coalesce(excluded.name, learners.name), email = coalesce(excluded.email, learners.email) "
           "RETURNING id, source_id, lms_user_id")
_FIRST_TIMES = (
    "SELECT l.id, c.course_id, min(c.completed_at) FROM {keys} JOIN learners l ON l.source_id = k.k1 "
    "AND l.lms_user_id = k.k2 JOIN course_completions c ON c.learner_id = l.id AND c.course_id = k.k3 "
    "GROUP BY l.id, c.course_id"
)
_HOLDINGS = (
    "SELECT l.id, h.credential, h.certified_on, h.cycle_start, h.number FROM {keys} "
    "JOIN learners l ON l.source_id = k.k1 AND l.lms_user_id = k.k2 JOIN learner_credentials h ON h.learner_id = l.id"
)
_MAPPING_TERMS = ("minutes", "use_measured_time", "max_minutes", "activity", "facts", "credentials")
_MAPPINGS = (
    f"SELECT m.source_id, m.course_id, {', '.join('m.' + c for c in _MAPPING_TERMS)} FROM {{keys}} "
    "JOIN course_mappings m ON m.source_id = k.k1 AND m.course_id = k.k2"
)
_KEY_TYPES = ("bigint", "varchar", "varchar")


def _keys(dialect: Dialect, statement: str, keys: list[tuple[Any, ...]], width: int) -> tuple[str, tuple[Any, ...]]:
    """``statement`` joining the rows of ``keys`` (tuples of an id and strings) as ``k (k1, k2…)``:
    on PostgreSQL one array a column (the same text whatever their number), elsewhere a
    ``VALUES`` list (SQLite names its columns ``column1``…)."""
    names = ", ".join(f"k{i + 1}" for i in range(width))
    if dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in _KEY_TYPES[:width])
        return (statement.format(keys=f"unnest({arrays}) AS k ({names})"),
                tuple([key[i] for key in keys] for i in range(width)))
    mark = placeholder(dialect)
    rows = ", ".join(["(" + ", ".join([mark] * width) + ")"] * len(keys))
    nothing = ", ".join(f"NULL AS column{i + 1}" for i in range(width))
    listed = f"VALUES {rows}" if keys else f"SELECT {nothing} WHERE 0"
    renamed = ", ".join(f"column{i + 1} AS k{i + 1}" for i in range(width))
    return statement.format(keys=f"(SELECT {renamed} FROM ({listed})) AS k"), tuple(itertools.chain.from_iterable(keys))


@functools.lru_cache(maxsize=16)
def _readers(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[Callable[[Any], Any] | None, ...]:
    """What SQLAlchemy makes of each column's values as the driver returns them (dates and JSON
    are text on SQLite)."""
    return tuple(table.c[c].type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)


def _read(rows: list[tuple[Any, ...]], readers: tuple[Callable[[Any], Any] | None, ...]) -> list[tuple[Any, ...]]:
    return [tuple(value if read is None else read(value) for value, read in zip(row, readers, strict=True))
            for row in rows]


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
    """The learners' upsert fits in one statement (else the caller takes the usual path)."""
    return 0 < learners <= rows_per_statement(connection.dialect, len(_LEARNER_COLUMNS))


def reserve_and_read_ahead(
    connection: Connection, first: tuple[str, tuple[Any, ...]], seen: list[SeenLearner],
    once_per_course: list[tuple[SeenLearner, str]], courses: set[tuple[int, str]],
) -> tuple[list[tuple[Any, ...]], ReadAhead]:
    """Run ``first`` (a statement returning rows: the events' ids reserved), then upsert the learners
    and read the batch's first times, holdings and mappings, all in one round trip on PostgreSQL;
    return the rows of ``first`` and what was read. ``once_per_course`` pairs a learner with a
    course whose first time is wanted."""
    if not fits(connection, len(seen)):
        raise ValueError("read ahead for one statement's worth of learners")
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
        _keys(dialect, _FIRST_TIMES, [(s.key.identity_id, s.key.lms_user_id, course)
                                      for s, course in once_per_course], 3),
        _keys(dialect, _HOLDINGS, [(s.key.identity_id, s.key.lms_user_id) for s in merged], 2),
        _keys(dialect, _MAPPINGS, ordered, 2),
    ])
    mappings: dict[tuple[int, str], MappingRow | None] = dict.fromkeys(ordered)
    for source_id, course_id, *terms in _read(results[4], _readers(dialect, _MAPPINGS_TABLE, _MAPPING_COLUMNS)):
        mappings[(source_id, course_id)] = MappingRow(*terms)
    ids = ids_by_key(results[1], {(s.key.identity_id, s.key.lms_user_id) for s in merged})
    [to_utc] = _readers(dialect, _COMPLETIONS, ("completed_at",))
    holdings = _read(results[3], _readers(dialect, _HELD, _HOLDING_COLUMNS))
    return results[0], ReadAhead(
        learner_ids=[int(ids[(s.key.identity_id, s.key.lms_user_id)]) for s in seen],
        first_times={(learner_id, course_id): when if to_utc is None else to_utc(when)
                     for learner_id, course_id, when in results[2]},
        holdings={(learner_id, credential): api.Holding(credential, certified_on, cycle_start, number)
                  for learner_id, credential, certified_on, cycle_start, number in holdings},
        mappings=mappings,
    )


_MAPPINGS_TABLE = table_of(models.CourseMapping)
_MAPPING_COLUMNS = ("source_id", "course_id", *_MAPPING_TERMS)
_HELD = table_of(models.LearnerCredential)
_HOLDING_COLUMNS = ("learner_id", "credential", "certified_on", "cycle_start", "number")
_COMPLETIONS = table_of(models.CourseCompletion)


def _merged(seen: list[SeenLearner]) -> list[SeenLearner]:
    """One learner per key, in key order (one statement may not update a row twice; concurrent
    upserts lock rows in the same order), later non-null names and e-mails winning, as
    :func:`lti_tool.row_writes.upsert_many` merges."""
    merged: dict[tuple[int, str], SeenLearner] = {}
    for s in seen:
        key = (s.key.identity_id, s.key.lms_user_id)
        earlier = merged.get(key)
        merged[key] = s if earlier is None else SeenLearner(
            earlier.key, s.name if s.name is not None else earlier.name,
            s.email if s.email is not None else earlier.email)
    return [merged[key] for key in sorted(merged)]
