"""Statements on the driver's own cursor: sent as PostgreSQL takes them, refused as SQLAlchemy refuses."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lti_tool.db import make_engine
from lti_tool.driver_statements import driver_execute, pipelined


def test_a_statement_s_markers_reach_postgresql_numbered_in_order(database_url: str) -> None:
    """On PostgreSQL the fast paths send ``$1``, ``$2``… (psycopg's raw cursor, which does not parse
    the text on every execution): each ``%s`` becomes its own number, in order, and ``%%`` a ``%``."""
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's statements use ? markers, sent as they are")
    with engine.connect() as connection:
        assert driver_execute(connection, "SELECT %s::text || '%%', %s::int + %s::int", ("a", 2, 3)) == [("a%", 5)]
    engine.dispose()


@pytest.mark.parametrize("pipelined_statements", [False, True], ids=["one statement", "pipelined"])
def test_a_connection_lost_under_a_driver_statement_is_invalidated_not_handed_out_again(
        database_url: str, pipelined_statements: bool) -> None:
    """The server ends the connection's backend between two uses: the next driver statement fails,
    SQLAlchemy's connection is marked invalidated, and the pool's next connection is a live one."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0, ping_after_idle_s=3600)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("a SQLite connection is a file, not a server's backend")
    killer = make_engine(database_url)
    try:
        with engine.connect() as connection:
            [(pid,)] = driver_execute(connection, "SELECT pg_backend_pid()", ())
            connection.commit()
            with killer.begin() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as failed:
                if pipelined_statements:
                    pipelined(connection, [("SELECT %s::int", (1,)), ("SELECT %s::int", (2,))])
                else:
                    driver_execute(connection, "SELECT %s::int", (1,))
            assert failed.value.connection_invalidated
            assert connection.invalidated
        with engine.connect() as again:  # the pool's only connection: a new one, not the dead one
            [(new_pid,)] = driver_execute(again, "SELECT pg_backend_pid()", ())
        assert new_pid != pid
    finally:
        killer.dispose()
        engine.dispose()
