"""Databases at an older revision, for the migrations' tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from lti_tool.db import make_engine
from lti_tool.schema import upgrade


@pytest.fixture
def database_at(database_url: str, tmp_path: Path) -> Iterator[Callable[[str], Engine]]:
    """Makes a database at a revision: SQLite in a file of its own, or on PostgreSQL the test
    database's schema, put back at head after."""
    engines: list[Engine] = []

    def at(revision: str) -> Engine:
        url = database_url if database_url.startswith("postgresql") else f"sqlite:///{tmp_path / 'old.sqlite3'}"
        engine = make_engine(url)
        engines.append(engine)
        if engine.dialect.name == "postgresql":
            empty_schema(engine)
        upgrade(engine, revision)
        return engine

    yield at
    for engine in engines:
        if engine.dialect.name == "postgresql":
            empty_schema(engine)
            upgrade(engine)
        engine.dispose()


def empty_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))


def insert_row(conn: sa.Connection, tables: sa.MetaData, table_name: str, **values: Any) -> int:
    table = tables.tables[table_name]
    return int(conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one())
