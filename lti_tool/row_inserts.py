"""Multi-row inserts sent as SQL text with plain values: the hot tables' writes.

SQLAlchemy's "insertmanyvalues" runs every parameter of every row through its statement machinery
(compiled parameter maps, per-value type processing); importing a million completions spent more
time there than in the database. Here the statement text is built once per table, columns and
number of rows, each column's bind processor is the one SQLAlchemy itself would apply (so
:class:`~lti_tool.models.base.UtcDateTime`, ``Credit`` and JSON columns are stored exactly as
through the ORM), and a value object that recurs across rows (a chunk's ``now``, the facts of an
activity shared by many awards) is processed once.

Rows are dicts; every row names the same columns. A table column the rows leave out must have no
Python-side default (:func:`covers_defaults` says; the caller then takes SQLAlchemy's path).
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

from lti_tool.driver_statements import driver_execute

Processor = Callable[[Any], Any] | None


def covers_defaults(table: Table, columns: Sequence[str]) -> bool:
    """The rows name every column that has a Python-side default (or the table has none left out)."""
    named = set(columns)
    return all(c.name in named for c in table.columns if c.default is not None)


@functools.lru_cache(maxsize=128)
def _processors(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[Processor, ...]:
    return tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns)


def bound_values(dialect: Dialect, table: Table, columns: tuple[str, ...],
                 rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's values as the driver takes them, in ``columns`` order.

    A processed value is remembered by the identity of the object it came from: the rows hold
    every value alive for the whole call, so an identity cannot be reused by another object."""
    processors = _processors(dialect, table, columns)
    # A memo per column: the same object may sit in columns of different types.
    processed: list[tuple[int, Callable[[Any], Any], dict[int, Any]]] = [
        (index, processor, {}) for index, processor in enumerate(processors) if processor is not None]
    pick = operator.itemgetter(*columns)
    out: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(pick(row)) if len(columns) > 1 else [pick(row)]
        for index, processor, memo in processed:
            value = values[index]
            if value is None:
                continue
            key = id(value)
            if key in memo:
                values[index] = memo[key]
            else:
                values[index] = memo[key] = processor(value)
        out.append(tuple(values))
    return out


_BOUNDED_TEXT = re.compile(r"(VARCHAR|CHAR)\(\d+\)")


@functools.lru_cache(maxsize=256)
def cast_type(dialect: Dialect, table: Table, column: str) -> str:
    """The PostgreSQL type a value bound for ``column`` is cast to in a ``VALUES`` list: the
    column's type, but a bounded text without its bound. An explicit ``::VARCHAR(n)`` cuts an
    over-long text silently; cast to ``VARCHAR``, it is refused by the column on insert or update
    (``value too long``), as a plain ``INSERT`` or the ORM's statements refuse it."""
    compiled = str(table.c[column].type.compile(dialect=dialect))
    return "VARCHAR" if _BOUNDED_TEXT.fullmatch(compiled) else compiled


def placeholder(dialect: Dialect) -> str:
    if dialect.paramstyle == "qmark":
        return "?"
    if dialect.paramstyle in ("format", "pyformat"):
        return "%s"
    raise NotImplementedError(f"paramstyle {dialect.paramstyle!r}")


@functools.lru_cache(maxsize=256)
def _statement(dialect: Dialect, table: Table, columns: tuple[str, ...], count: int, suffix: str) -> str:
    quote = dialect.identifier_preparer.quote
    one = "(" + ", ".join([placeholder(dialect)] * len(columns)) + ")"
    return (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
            f"({', '.join(quote(c) for c in columns)}) VALUES {', '.join([one] * count)}{suffix}")


def returning_suffix(dialect: Dialect, table: Table, conflict_columns: tuple[str, ...], any_conflict: bool) -> str:
    """``ON CONFLICT … DO NOTHING RETURNING id, key…``: only the rows inserted come back."""
    quote = dialect.identifier_preparer.quote
    target = "" if any_conflict else f" ({', '.join(quote(c) for c in conflict_columns)})"
    returned = ", ".join(quote(c) for c in ("id", *conflict_columns))
    return f" ON CONFLICT{target} DO NOTHING RETURNING {returned}"


def rows_per_statement(dialect: Dialect, width: int) -> int:
    return max(1, min(1000, dialect.insertmanyvalues_max_parameters // max(1, width)))


def execute_values(connection: Connection, table: Table, columns: tuple[str, ...], values: list[tuple[Any, ...]],
                   suffix: str = "") -> list[tuple[Any, ...]]:
    """Insert the value tuples, as many rows per statement as the driver allows; return what the
    statements return (rows as the driver gives them: values unprocessed)."""
    dialect = connection.dialect
    step = rows_per_statement(dialect, len(columns))
    returned: list[tuple[Any, ...]] = []
    for start in range(0, len(values), step):
        part = values[start:start + step]
        flat = tuple(itertools.chain.from_iterable(part))
        returned.extend(driver_execute(connection, _statement(dialect, table, columns, len(part), suffix), flat))
    return returned


@functools.lru_cache(maxsize=64)
def _ordered_statement(dialect: Dialect, table: Table, columns: tuple[str, ...], count: int) -> str:
    """An insert of ``count`` rows whose new ids are drawn in the order the rows are given: on
    PostgreSQL the rows are selected from ``VALUES`` ordered by their position (SQLAlchemy's own
    form for ordered ``RETURNING``), with each value cast to its column's type (:func:`cast_type`); SQLite inserts the
    rows of a ``VALUES`` list in order."""
    quote = dialect.identifier_preparer.quote
    target = f"{dialect.identifier_preparer.format_table(table)} ({', '.join(quote(c) for c in columns)})"
    mark = placeholder(dialect)
    if dialect.name != "postgresql":
        one = "(" + ", ".join([mark] * len(columns)) + ")"
        return f"INSERT INTO {target} VALUES {', '.join([one] * count)} RETURNING id"
    names = [f"p{i}" for i in range(len(columns))]
    casts = ", ".join(f"{name}::{cast_type(dialect, table, column)}"
                      for name, column in zip(names, columns, strict=True))
    rows = ", ".join("(" + ", ".join([mark] * len(columns)) + f", {n})" for n in range(count))
    return (f"INSERT INTO {target} SELECT {casts} FROM (VALUES {rows}) AS v ({', '.join(names)}, n) "
            "ORDER BY n RETURNING id")


def ordered_insert(dialect: Dialect, table: Table, columns: tuple[str, ...],
                   values: list[tuple[Any, ...]]) -> tuple[str, tuple[Any, ...]] | None:
    """:func:`insert_returning_ids`'s statement and parameters when the rows fit in one statement
    (for :func:`pipelined`; its ids come back in any order: sort them), else ``None``."""
    if not values or len(values) > rows_per_statement(dialect, len(columns) + 1):
        return None
    return (_ordered_statement(dialect, table, columns, len(values)),
            tuple(itertools.chain.from_iterable(values)))


def insert_statement(dialect: Dialect, table: Table, columns: tuple[str, ...], count: int, suffix: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (…), …`` for ``count`` rows, then ``suffix``."""
    return _statement(dialect, table, columns, count, suffix)


def insert_returning_ids(connection: Connection, table: Table, columns: tuple[str, ...],
                         values: list[tuple[Any, ...]]) -> list[int]:
    """Insert the value tuples (no conflict expected) and return their new ids in the order given.

    The ids of one statement's rows are drawn in the rows' order (:func:`_ordered_statement`) and
    increase, so the returned ids, sorted, are the rows' in order, whatever order ``RETURNING``
    gives them in (neither database promises one)."""
    dialect = connection.dialect
    step = rows_per_statement(dialect, len(columns) + 1)
    ids: list[int] = []
    for start in range(0, len(values), step):
        part = values[start:start + step]
        statement = _ordered_statement(dialect, table, columns, len(part))
        ids.extend(sorted(int(row[0]) for row in driver_execute(
            connection, statement, tuple(itertools.chain.from_iterable(part)))))
    return ids


def typed_placeholders(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str:
    """``(%s::TYPE, …)`` for a row of ``columns`` in a PostgreSQL ``VALUES`` list that is joined or
    selected from rather than inserted (nothing else tells PostgreSQL the values' types)."""
    mark = placeholder(dialect)
    return "(" + ", ".join(f"{mark}::{cast_type(dialect, table, c)}" for c in columns) + ")"


def reserve_ids(dialect: Dialect, table: Table, count: int) -> tuple[str, tuple[Any, ...]]:
    """A statement (and its parameters) that reserves ``count`` new ids of ``table`` for rows
    inserted later in the same transaction with those ids (:func:`reserved_ids` reads them from
    its rows), before any other insert into ``table`` in that transaction.

    On PostgreSQL ``count`` draws from the id column's sequence. On SQLite it reads the largest
    id so far, which no other transaction can change meanwhile: a write transaction holds the
    write lock from its start (``BEGIN IMMEDIATE``, :func:`lti_tool.db.make_engine`), and the
    next id SQLite chooses itself is above the largest."""
    if dialect.name == "postgresql":
        return ("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                (table.name, count))
    return f"SELECT coalesce(max(id), 0) FROM {dialect.identifier_preparer.format_table(table)}", ()


def reserved_ids(dialect: Dialect, rows: Sequence[Sequence[Any]], count: int) -> list[int]:
    """The ids :func:`reserve_ids`' statement reserved, from the rows it returned, increasing."""
    if dialect.name == "postgresql":
        ids = sorted(int(row[0]) for row in rows)
        if len(ids) != count:
            raise RuntimeError(f"reserved {len(ids)} ids, not {count}")
        return ids
    [(largest,)] = rows
    return list(range(int(largest) + 1, int(largest) + 1 + count))
