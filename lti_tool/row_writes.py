"""Rows written many at a time: one multi-row ``INSERT … ON CONFLICT … RETURNING`` (or plain
``INSERT``) per call, each returned id matched back to its row by the row's key, never by position;
the unique constraints decide what is new. The statements' text is built by
:mod:`lti_tool.row_inserts`; transactions are :mod:`lti_tool.db`'s.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Container
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.db import flushed_connection
from lti_tool.row_inserts import (
    bound_values,
    covers_defaults,
    execute_values,
    insert_returning_ids,
    returning_suffix,
)


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


Key = tuple[Any, ...]


def _key(row: dict[str, Any], columns: tuple[str, ...]) -> Key:
    return tuple(row[c] for c in columns)


@functools.lru_cache(maxsize=64)
def _upsert_many_statement(dialect: str, table: Any, conflict_columns: tuple[str, ...],
                           refresh_columns: tuple[str, ...]) -> Any:
    statement = _insert(dialect)(table)
    return statement.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={c: func.coalesce(statement.excluded[c], table.c[c]) for c in refresh_columns},
    ).returning(table.c.id, *(table.c[c] for c in conflict_columns))


@functools.lru_cache(maxsize=64)
def _insert_many_or_skip_statement(dialect: str, table: Any, conflict_columns: tuple[str, ...],
                                   any_conflict: bool = False) -> Any:
    return (
        _insert(dialect)(table)
        .on_conflict_do_nothing(index_elements=None if any_conflict else list(conflict_columns))
        .returning(table.c.id, *(table.c[c] for c in conflict_columns))
    )


def upsert_many(
    session: Session, table: Any, rows: list[dict[str, Any]], conflict_columns: tuple[str, ...],
    refresh_columns: tuple[str, ...],
) -> list[int]:
    """Insert rows, or refresh ``refresh_columns`` of existing ones (keeping old values where the
    new ones are null); return each row's id, in the order given, from one multi-row statement.

    Rows with the same key are merged first, later non-null values winning: one statement may not
    update a row twice. Ids are matched to rows by their key, returned with them, not by position
    (a database need not return rows in the order it received them).
    """
    if not rows:
        return []
    merged: dict[Key, dict[str, Any]] = {}
    for row in rows:
        key = _key(row, conflict_columns)
        if key in merged:
            earlier = merged[key]
            merged[key] = {**earlier, **{c: row[c] for c in refresh_columns if row.get(c) is not None}}
        else:
            merged[key] = row
    statement = _upsert_many_statement(
        session.get_bind().dialect.name, table, conflict_columns, refresh_columns
    )
    ids = ids_by_key(session.execute(statement, _sorted(merged)), merged)
    return [int(ids[_key(row, conflict_columns)]) for row in rows]


def insert_many_or_skip(
    session: Session, table: Any, rows: list[dict[str, Any]], conflict_columns: tuple[str, ...],
    *, any_conflict: bool = False,
) -> list[int | None]:
    """Insert the rows whose unique key is new, in one multi-row statement; return each row's new
    id in the order given, or ``None`` for a row skipped because its key exists (in the table or
    earlier in ``rows``).

    ``INSERT … ON CONFLICT DO NOTHING RETURNING id, key`` on SQLite and PostgreSQL: the unique
    constraint, not a prior SELECT, decides, so concurrent deliveries cannot both insert. With
    ``any_conflict``, a row is skipped when it conflicts with *any* unique constraint of the table
    (``ON CONFLICT DO NOTHING`` without a target); ``conflict_columns`` still match rows to ids.
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    if covers_defaults(table, columns) and all(row.keys() == rows[0].keys() for row in rows):
        return _insert_values_or_skip(session, table, columns, rows, conflict_columns, any_conflict)
    first: dict[Key, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(_key(row, conflict_columns), row)
    statement = _insert_many_or_skip_statement(session.get_bind().dialect.name, table, conflict_columns,
                                               any_conflict)
    ids = ids_by_key(session.execute(statement, _sorted(first)), first)
    result: list[int | None] = []
    for row in rows:
        key = _key(row, conflict_columns)
        result.append(ids.pop(key, None) if first.get(key) is row else None)
    return result


def _insert_values_or_skip(session: Session, table: Any, columns: tuple[str, ...], rows: list[dict[str, Any]],
                           conflict_columns: tuple[str, ...], any_conflict: bool) -> list[int | None]:
    """:func:`insert_many_or_skip` as SQL text with plain values (:mod:`lti_tool.row_inserts`): rows
    are matched to ids by their key *as bound* (what the database stores and returns)."""
    connection = flushed_connection(session)
    values = bound_values(connection.dialect, table, columns, rows)
    key_of = operator.itemgetter(*(columns.index(c) for c in conflict_columns))
    keys: list[Key] = [key_of(row) for row in values] if len(conflict_columns) > 1 else \
        [(key_of(row),) for row in values]
    first: dict[Key, int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    returned = execute_values(connection, table, columns, [values[first[key]] for key in sorted_keys(first)],
                              returning_suffix(connection.dialect, table, conflict_columns, any_conflict))
    ids = ids_by_key(returned, first)
    return [ids.pop(key, None) if first[key] == index else None for index, key in enumerate(keys)]


def sorted_keys(keys: Any) -> list[Key]:
    """The keys in order (see :func:`_sorted`)."""
    try:
        return sorted(keys)
    except TypeError:  # keys of mixed types: any fixed order will do
        return sorted(keys, key=repr)


@functools.lru_cache(maxsize=64)
def _insert_many_statement(table: Any) -> Any:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


def insert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows; return their new ids in the order given."""
    if not rows:
        return []
    columns = tuple(rows[0])
    if not (covers_defaults(table, columns) and all(row.keys() == rows[0].keys() for row in rows)):
        return [int(found[0]) for found in session.execute(_insert_many_statement(table), rows)]
    connection = flushed_connection(session)
    return insert_returning_ids(connection, table, columns, bound_values(connection.dialect, table, columns, rows))


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the rows, several to a statement, returning nothing (no conflict is expected)."""
    if not rows:
        return
    columns = tuple(rows[0])
    if not (covers_defaults(table, columns) and all(row.keys() == rows[0].keys() for row in rows)):
        session.execute(insert(table), rows)
        return
    connection = flushed_connection(session)
    execute_values(connection, table, columns, bound_values(connection.dialect, table, columns, rows))


def ids_by_key(returned: Any, sent: Container[Key]) -> dict[Key, int]:
    """Each returned row's id by its key (rows of an id, then the key's columns); a returned key
    that was not sent is an error, never read as "skipped" (PostgreSQL, for one, trims trailing
    spaces that overflow a column)."""
    ids = {tuple(found[1:]): found[0] for found in returned}
    strangers = [key for key in ids if key not in sent]
    if strangers:
        raise ValueError(f"the database returned keys it was not sent: {strangers[:3]!r}")
    return ids


def _sorted(rows_by_key: dict[Key, dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows in key order: concurrent transactions then take row locks in the same order, so
    two PostgreSQL workers inserting overlapping keys wait for each other instead of deadlocking."""
    try:
        keys = sorted(rows_by_key)
    except TypeError:  # keys of mixed types: any fixed order will do
        keys = sorted(rows_by_key, key=repr)
    return [rows_by_key[key] for key in keys]


def insert_or_skip(
    session: Session, table: Any, values: dict[str, Any], conflict_columns: list[str]
) -> int | None:
    """:func:`insert_many_or_skip` for one row: its new id, or ``None`` if its key exists."""
    return insert_many_or_skip(session, table, [values], tuple(conflict_columns))[0]
