"""A database that refuses some inserts, as a full disk or a bug would: real triggers on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


@contextmanager
def refusing_inserts(engine: Engine, table: str, when: str, message: str) -> Iterator[None]:
    """While inside, inserting into ``table`` a row for which ``when`` holds (SQL over ``NEW``)
    fails with ``message``."""
    name = f"refuse_{table}"
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(text(
                f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                f"IF {when} THEN RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                              f"FOR EACH ROW EXECUTE FUNCTION {name}()"))
        else:
            conn.execute(text(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                              f"WHEN {when} BEGIN SELECT RAISE(ABORT, '{message}'); END"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER {name} ON {table}" if postgres else f"DROP TRIGGER {name}"))
            if postgres:
                conn.execute(text(f"DROP FUNCTION {name}()"))
