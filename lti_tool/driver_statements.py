"""Statements run on the driver's own cursor, in the SQLAlchemy connection's transaction: the hot
paths' SQL text with plain values (:mod:`lti_tool.row_inserts` builds it).

Through ``Connection.exec_driver_sql`` each statement also paid for SQLAlchemy's execution context
and result, about as much CPU as SQLite's insert of the rows. Here a driver error is still raised as
SQLAlchemy raises it (:class:`~sqlalchemy.exc.IntegrityError` and the rest), and a connection the
error shows to be lost is invalidated, as SQLAlchemy's own execution does.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def driver_execute(connection: Connection, statement: str, parameters: Sequence[Any] | Sequence[Sequence[Any]],
                   *, many: bool = False) -> list[tuple[Any, ...]]:
    """Run one statement on the driver's own cursor, in the connection's transaction, and return
    its rows (none for a statement that returns none); ``many``: ``executemany`` over ``parameters``."""
    cursor = _cursor(connection)
    try:
        with _as_sqlalchemy_raises(connection, statement, parameters, cursor):
            if many:
                cursor.executemany(_native(connection, statement), parameters)
            else:
                cursor.execute(_native(connection, statement), parameters)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    finally:
        cursor.close()


def _cursor(connection: Connection) -> Any:
    """A cursor of the driver's connection: on PostgreSQL a psycopg ``RawCursor``, which sends the
    statement as it is, with PostgreSQL's own ``$1`` markers (:func:`_native`). psycopg's usual
    cursor parses the text for its ``%s`` markers on every execution of a statement over 4 KB or 50
    parameters, as a batch's multi-row statements are (about a millisecond for the awards' statement
    of eight events)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        from psycopg import RawCursor

        return RawCursor(driver)
    return driver.cursor()


def _native(connection: Connection, statement: str) -> str:
    return _numbered(statement) if connection.dialect.name == "postgresql" else statement


_MARKER = re.compile(r"%[s%]")


@functools.lru_cache(maxsize=512)
def _numbered(statement: str) -> str:
    """``statement`` with its ``%s`` markers numbered ``$1``, ``$2``… in order and ``%%`` as ``%``
    (the statements' texts recur: one per table, columns and number of rows)."""
    numbers = itertools.count(1)
    return _MARKER.sub(lambda found: f"${next(numbers)}" if found.group() == "%s" else "%", statement)


@contextlib.contextmanager
def _as_sqlalchemy_raises(connection: Connection, statement: str, parameters: Any, cursor: Any) -> Iterator[None]:
    """A driver error raised as SQLAlchemy raises it; a connection it shows lost is invalidated (the
    pool then never hands it out again) and the error says so (``connection_invalidated``), as
    SQLAlchemy's own execution does."""
    try:
        yield
    except connection.dialect.loaded_dbapi.Error as exc:
        lost = not connection.invalidated and connection.dialect.is_disconnect(exc, connection.connection, cursor)
        error = DBAPIError.instance(statement, parameters, exc, connection.dialect.loaded_dbapi.Error,
                                    connection_invalidated=lost, dialect=connection.dialect)
        if lost:
            connection.invalidate(exc)
        raise error from exc


def pipelined(connection: Connection, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[list[tuple[Any, ...]]]:
    """Run the statements in order, in the connection's transaction, and return each one's rows
    (each must return rows).

    On PostgreSQL all of them are sent before the first answer is read (psycopg's pipeline mode):
    one round trip for the lot instead of one each. A later statement sees what an earlier one
    wrote, as in any transaction; a failure fails the lot (the caller's transaction rolls back)."""
    if connection.dialect.name != "postgresql":
        return [driver_execute(connection, statement, parameters) for statement, parameters in statements]
    driver = connection.connection.driver_connection
    assert driver is not None
    cursors: list[Any] = []
    try:
        with _as_sqlalchemy_raises(connection, statements[0][0], statements[0][1], None), driver.pipeline():
            for statement, parameters in statements:
                cursor = _cursor(connection)
                cursors.append(cursor)
                cursor.execute(_native(connection, statement), parameters)
            return [[tuple(row) for row in cursor.fetchall()] for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()
