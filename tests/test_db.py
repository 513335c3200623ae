"""The embedded SQLite default: WAL, and concurrent writers wait for each other instead of failing."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from lti_tool.db import make_engine, session_factory, write_session


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
