"""The embedded SQLite default: WAL, and concurrent writers wait for each other instead of failing."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, select, text
from sqlalchemy.exc import OperationalError

from lti_tool.db import WriteTurnTimeout, make_engine, session_factory, write_session
from lti_tool.row_writes import insert_many_or_skip, upsert_many


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", sqlite_busy_timeout_ms=1234)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234


def test_concurrent_read_modify_write_transactions_lose_no_update(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE takes the write lock first, so a read-then-write cannot be interleaved."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    sessions = session_factory(engine)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with write_session(sessions) as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 100


def _keyed_table(url: str) -> tuple[Any, Any]:
    engine = make_engine(url)
    metadata = MetaData()
    table = Table(
        "keyed", metadata,
        Column("id", Integer, primary_key=True),
        Column("owner", Integer, nullable=False),
        Column("key", String(20), nullable=False),
        Column("note", String(20)),
        UniqueConstraint("owner", "key"),
    )
    metadata.drop_all(engine)
    metadata.create_all(engine)
    return engine, table


def test_insert_many_or_skip_returns_new_ids_in_order_and_none_for_existing_or_repeated_keys(
    database_url: str,
) -> None:
    engine, table = _keyed_table(database_url)
    sessions = session_factory(engine)
    with write_session(sessions) as session:
        [existing] = insert_many_or_skip(session, table, [{"owner": 1, "key": "a", "note": None}], ("owner", "key"))
    with write_session(sessions) as session:
        ids = insert_many_or_skip(session, table, [
            {"owner": 2, "key": "b", "note": "first"},
            {"owner": 1, "key": "a", "note": None},      # in the table already
            {"owner": 1, "key": "b", "note": None},
            {"owner": 2, "key": "b", "note": "again"},   # repeated in this call
        ], ("owner", "key"))
        stored = {(r.owner, r.key): (r.id, r.note) for r in session.execute(select(table))}
    assert ids[1] is None and ids[3] is None
    assert isinstance(ids[0], int) and isinstance(ids[2], int) and len({existing, ids[0], ids[2]}) == 3
    assert stored == {(1, "a"): (existing, None), (2, "b"): (ids[0], "first"), (1, "b"): (ids[2], None)}
    engine.dispose()


def test_upsert_many_gives_every_row_its_id_and_keeps_known_values_the_new_row_lacks(database_url: str) -> None:
    engine, table = _keyed_table(database_url)
    sessions = session_factory(engine)
    with write_session(sessions) as session:
        [kept] = upsert_many(session, table, [{"owner": 1, "key": "a", "note": "known"}], ("owner", "key"), ("note",))
    with write_session(sessions) as session:
        ids = upsert_many(session, table, [
            {"owner": 1, "key": "a", "note": None},      # no new note: the known one stays
            {"owner": 3, "key": "c", "note": None},
            {"owner": 3, "key": "c", "note": "later"},   # the same key twice: merged, later values win
        ], ("owner", "key"), ("note",))
        stored = {(r.owner, r.key): (r.id, r.note) for r in session.execute(select(table))}
    assert ids[0] == kept and ids[1] == ids[2] != kept
    assert stored == {(1, "a"): (kept, "known"), (3, "c"): (ids[1], "later")}
    engine.dispose()


def test_sqlite_writers_in_other_processes_wait_for_the_write_turn(tmp_path: Path) -> None:
    """Another process holding the turn (its flock, with no SQLite transaction open) keeps our writer
    out until it lets go."""
    database = tmp_path / "x.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (who TEXT)"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_TURN, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == b"holding"
        done = threading.Event()

        def write() -> None:
            with write_session(session_factory(engine)) as session:
                session.execute(text("INSERT INTO log VALUES ('us')"))
            done.set()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        assert not done.wait(0.3), "wrote while another process held the write turn"
        holder.stdin.write(b"go\n")
        holder.stdin.flush()
        assert done.wait(10)
        with engine.connect() as conn:
            assert [r[0] for r in conn.execute(text("SELECT who FROM log ORDER BY rowid"))] == ["them", "us"]
    finally:
        holder.kill()
        holder.wait(10)
        engine.dispose()


HOLD_THE_TURN = """
import sys
from sqlalchemy import text
from lti_tool.db import _write_turn, make_engine
engine = make_engine(f"sqlite:///{sys.argv[1]}")
with _write_turn(engine)():  # the turn only: no SQLite transaction is open while it waits
    print("holding", flush=True)
    sys.stdin.readline()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO log VALUES ('them')"))
"""


def test_a_returned_key_that_was_not_sent_is_an_error_not_a_skipped_row(database_url: str) -> None:
    """PostgreSQL trims trailing spaces that overflow a column, so the key it returns is not the key
    sent: that must fail loudly, never read as "this row existed already"."""
    engine, table = _keyed_table(database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL trims: SQLite stores the value as sent")
    refused = pytest.raises(ValueError, match="returned keys it was not sent")
    with refused, write_session(session_factory(engine)) as session:
        insert_many_or_skip(session, table, [{"owner": 1, "key": "a" + " " * 30, "note": None}], ("owner", "key"))
    engine.dispose()


def test_a_writer_kept_out_longer_than_the_busy_timeout_gets_a_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "x.db"
    engine = make_engine(f"sqlite:///{database}", sqlite_busy_timeout_ms=200)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_TURN, str(database)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"holding"
        turn_refused = pytest.raises(WriteTurnTimeout, match="another process held the database")
        with turn_refused, write_session(session_factory(engine)):
            pass
    finally:
        holder.kill()
        holder.wait(10)
        engine.dispose()


def _backend_pid(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(database_url: str, pid: int) -> None:
    other = make_engine(database_url)
    with other.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_terminate_backend(%s, 5000)", (pid,)).scalar_one() is True
    other.dispose()


def test_a_pooled_connection_that_died_while_idle_is_replaced_before_it_is_used(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no connection to lose")
    engine = make_engine(database_url, ping_after_idle_s=0)  # every checkout has been idle long enough
    pid = _backend_pid(engine)
    _terminate(database_url, pid)
    assert _backend_pid(engine) != pid
    engine.dispose()


def test_a_connection_that_died_a_moment_after_use_fails_its_transaction_and_is_replaced(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no connection to lose")
    engine = make_engine(database_url, ping_after_idle_s=3600)  # not pinged: back in the pool "a moment ago"
    pid = _backend_pid(engine)
    _terminate(database_url, pid)
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert _backend_pid(engine) != pid  # the pool dropped it on the disconnect error
    engine.dispose()


def test_the_pool_keeps_a_connection_for_every_request_thread(database_url: str, tmp_path: Path) -> None:
    """With fewer kept, the connections beyond the pool's size were closed on their return and
    opened again by the next request (a new PostgreSQL backend each time)."""
    from lti_tool.runtime import build_runtime
    from lti_tool.settings import load_settings

    runtime = build_runtime(load_settings(database_url=database_url, instance_dir=tmp_path / "instance",
                                          server={"threads": 12}))
    held = [runtime.engine.connect() for _ in range(14)]
    for connection in held:
        connection.close()
    assert runtime.engine.pool.checkedin() == 14
    runtime.engine.dispose()
