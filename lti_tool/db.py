"""Database engines and transactions.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every write transaction
starts with ``BEGIN IMMEDIATE`` so it takes the write lock at its start: concurrent writers wait for
each other instead of failing half-way with "database is locked". Read-only work can ask for a
deferred transaction with :func:`read_session`. PostgreSQL needs nothing special.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, CursorResult, Engine, Result, Table, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle longer than this is pinged before it is handed out."""


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = 30_000,
                ping_after_idle_s: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE``; a server
    database gets its pooled connections pinged when they were idle (:func:`_ping_when_idle`)."""
    if not url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _ping_when_idle(engine, ping_after_idle_s)
        return engine
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

    _write_turn(engine, sqlite_busy_timeout_ms / 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before handing it out if it sat in the pool longer than
    ``idle_seconds`` (or is new); one that does not answer is replaced (SQLAlchemy's own recipe:
    ``DisconnectionError`` on checkout).

    ``pool_pre_ping`` pings on every checkout: on PostgreSQL two round trips (the driver's
    ``BEGIN``, then ``SELECT 1``) before each transaction, on the events' path one in six. A
    connection back in the pool a moment ago is not pinged: what kills connections (a server
    restart, an idle timeout, a network change) strikes connections that sat idle; and should one
    die in that moment, its transaction fails cleanly, the pool drops it on the disconnect error,
    and the caller's retry (a batch's events each alone) gets a new connection."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is not None and time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # noqa: BLE001 - any failure: the pool replaces the connection
            raise DisconnectionError(f"a pooled connection did not answer: {exc}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class WriteTurnTimeout(TimeoutError):
    """Another writer kept the database longer than the busy timeout."""


class _SqliteWriteTurn:
    """Whose turn it is to write to one SQLite database: a thread lock within this process, then an
    ``flock`` on a file beside the database across processes.

    SQLite admits one writer at a time, and a writer that finds the database locked waits in its busy
    handler, which sleeps and retries (up to 100 ms a try). Threads that queue on the lock instead
    are woken the moment the writer before them is done; another process's turn is polled every
    2 ms at most. Both waits end with :class:`WriteTurnTimeout` after the busy timeout. The file is
    opened once per process (a file description inherited across ``fork`` would be shared with the
    parent, and so would its lock).
    """

    def __init__(self, database: str | None, timeout: float) -> None:
        self._thread_lock = threading.Lock()
        self._path = None if database in (None, "", ":memory:") else f"{database}-writer.lock"
        self._timeout = timeout
        self._file: Any = None
        self._pid = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        deadline = time.monotonic() + self._timeout
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise WriteTurnTimeout(f"another thread held the database for {self._timeout:g} s")
        try:
            if self._path is None:
                yield
                return
            if self._pid != os.getpid():
                self._file = open(self._path, "a+b")  # noqa: SIM115 - kept open for the process's life
                self._pid = os.getpid()
            self._lock_file(deadline)
            try:
                yield
            finally:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _lock_file(self, deadline: float) -> None:
        pause = 0.0005
        while True:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriteTurnTimeout(
                        f"another process held the database for {self._timeout:g} s") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)


_sqlite_write_turns: WeakKeyDictionary[Engine, _SqliteWriteTurn] = WeakKeyDictionary()
_turns_lock = threading.Lock()


def _write_turn(engine: Engine, timeout: float = 30.0) -> _SqliteWriteTurn:
    with _turns_lock:
        turn = _sqlite_write_turns.get(engine)
        if turn is None:
            turn = _sqlite_write_turns[engine] = _SqliteWriteTurn(engine.url.database, timeout)
        return turn


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One write transaction: committed on success, rolled back on any exception.

    On SQLite, writers first wait their turn (:class:`_SqliteWriteTurn`), then ``BEGIN IMMEDIATE``.
    """
    engine = factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        with factory() as session, session.begin():
            yield session
        return
    with _write_turn(engine)(), factory() as session, session.begin():
        yield session


@contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A read-only transaction (on SQLite a deferred ``BEGIN`` that does not block writers)."""
    engine = factory.kw["bind"]
    with Session(engine.execution_options(sqlite_read_only=True), expire_on_commit=False) as session, \
            session.begin():
        yield session


def table_of(model: type[Any]) -> Table:
    """A mapped class's Core table (for statements built once, with parameters, on the hot path)."""
    return cast(Table, model.__table__)


def flushed_connection(session: Session) -> Connection:
    """The session's connection, for Core statements built once on the hot path: they skip the
    ORM's execution (its events, autoflush, result wrapping); pending ORM changes are flushed first,
    as ``session.execute`` would."""
    if session.autoflush:
        session.flush()
    return session.connection()


def rows_changed(result: Result[Any]) -> int:
    """How many rows an ``UPDATE`` or ``DELETE`` changed (``session.execute`` types its result as
    a plain :class:`~sqlalchemy.Result`; for those statements it is a ``CursorResult``)."""
    return cast("CursorResult[Any]", result).rowcount
