"""Statements on the driver's own cursor: sent as PostgreSQL takes them, refused as SQLAlchemy refuses."""

from __future__ import annotations

import pytest

from lti_tool.db import make_engine
from lti_tool.driver_statements import driver_execute


def test_a_statement_s_markers_reach_postgresql_numbered_in_order(database_url: str) -> None:
    """On PostgreSQL the fast paths send ``$1``, ``$2``… (psycopg's raw cursor, which does not parse
    the text on every execution): each ``%s`` becomes its own number, in order, and ``%%`` a ``%``."""
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's statements use ? markers, sent as they are")
    with engine.connect() as connection:
        assert driver_execute(connection, "SELECT %s::text || '%%', %s::int + %s::int", ("a", 2, 3)) == [("a%", 5)]
    engine.dispose()
