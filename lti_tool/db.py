"""Database engines and transactions.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every write transaction
starts with ``BEGIN IMMEDIATE`` so it takes the write lock at its start: concurrent writers wait for
each other instead of failing half-way with "database is locked". Read-only work can ask for a
deferred transaction with :func:`read_session`. PostgreSQL needs nothing special.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event, func
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = 30_000, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE``."""
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    engine = create_engine(
        url,
        connect_args={"timeout": sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, say when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_sqlite_write_locks: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One write transaction: committed on success, rolled back on any exception.

    On SQLite, threads of one process queue on a lock first: SQLite admits one writer at a time,
    and its busy handler backs off by sleeping (up to 100 ms a try), which threads that simply wait
    their turn avoid. Other processes still wait on SQLite's lock.
    """
    engine = factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        with factory() as session, session.begin():
            yield session
        return
    lock = _sqlite_write_locks.setdefault(engine, threading.Lock())
    with lock, factory() as session, session.begin():
        yield session


@contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A read-only transaction (on SQLite a deferred ``BEGIN`` that does not block writers)."""
    engine = factory.kw["bind"]
    with Session(engine.execution_options(sqlite_read_only=True), expire_on_commit=False) as session, \
            session.begin():
        yield session


def _insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@functools.lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Any, conflict_columns: tuple[str, ...],
                      refresh_columns: tuple[str, ...]) -> Any:
    statement = _insert(dialect)(table)
    return statement.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={c: func.coalesce(statement.excluded[c], table.c[c]) for c in refresh_columns},
    ).returning(table.c.id)


@functools.lru_cache(maxsize=64)
def _insert_or_skip_statement(dialect: str, table: Any, conflict_columns: tuple[str, ...]) -> Any:
    return (
        _insert(dialect)(table)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(table.c.id)
    )


def upsert_returning_id(
    session: Session, table: Any, values: dict[str, Any], conflict_columns: list[str],
    refresh_columns: list[str],
) -> int:
    """Insert a row, or refresh ``refresh_columns`` of the existing one (keeping old values where the
    new ones are null); either way return its id, in one statement.

    Statements are built once per table and given their values as parameters: building and
    caching a statement per call cost more than the database work itself.
    """
    statement = _upsert_statement(
        session.get_bind().dialect.name, table, tuple(conflict_columns), tuple(refresh_columns)
    )
    return int(session.execute(statement, values).scalar_one())


def insert_or_skip(
    session: Session, table: Any, values: dict[str, Any], conflict_columns: list[str]
) -> int | None:
    """Insert one row unless a row with the same unique key exists; return its new id or ``None``.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` on SQLite and PostgreSQL: the unique constraint,
    not a prior SELECT, decides, so two concurrent deliveries of one event cannot both insert.
    """
    statement = _insert_or_skip_statement(session.get_bind().dialect.name, table, tuple(conflict_columns))
    return session.execute(statement, values).scalar_one_or_none()
