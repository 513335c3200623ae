"""Migration 0013: stored events, completions and awards are unchanged; a completion's reference
to its event is checked at commit; the schema matches the models; and it goes back down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from lti_tool.models import Base
from lti_tool.schema import alembic_config, upgrade
from tests.migrations.conftest import insert_row

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _tables(engine: Engine) -> sa.MetaData:
    tables = sa.MetaData()
    tables.reflect(engine)
    return tables


def _seed(engine: Engine) -> dict[str, int]:
    """A source, an event, a learner, its completion and an award of it (with its ledger entry)."""
    tables = _tables(engine)
    with engine.begin() as conn:
        source = insert_row(conn, tables, "sources", kind="moodle", name="m", token_hash="t" * 64,
                            secret_hash="s" * 64, created_at=NOW)
        event = insert_row(conn, tables, "lms_events", source_id=source, received_at=NOW, body="{}", parsed=[],
                           status="credited", detail={}, attempts=1)
        failed = insert_row(conn, tables, "lms_events", source_id=source, received_at=NOW, body="{}", parsed=[],
                            status="failed", detail={}, attempts=2)
        learner = insert_row(conn, tables, "learners", source_id=source, lms_user_id="42", created_at=NOW)
        completion = insert_row(conn, tables, "course_completions", learner_id=learner, source_id=source,
                                course_id="hipaa", completed_at=NOW, event_id=event, created_at=NOW)
        award = insert_row(conn, tables, "awards", completion_id=completion, learner_id=learner, source_id=source,
                           course_id="hipaa", credential="iacet-ceu", course_key="course:hipaa", period="2026",
                           revision=0, amount="0.2", unit="CEUs", reason="r", tags=[], minutes=120,
                           activity={}, rule_version="v1", settings={}, completed_at=NOW, created_at=NOW)
        insert_row(conn, tables, "ledger_entries", award_id=award, kind="credit", amount="0.2", reason="r",
                   created_at=NOW)
    return {"source": source, "event": event, "failed": failed, "learner": learner}


def _rows(engine: Engine, table: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))]  # noqa: S608


def _completion(conn: sa.Connection, tables: sa.MetaData, ids: dict[str, int], event_id: int, course: str) -> None:
    insert_row(conn, tables, "course_completions", learner_id=ids["learner"], source_id=ids["source"],
               course_id=course, completed_at=NOW, event_id=event_id, created_at=NOW)


def _event(conn: sa.Connection, tables: sa.MetaData, ids: dict[str, int], event_id: int) -> None:
    conn.execute(tables.tables["lms_events"].insert().values(
        id=event_id, source_id=ids["source"], received_at=NOW, body="{}", parsed=[], status="credited",
        detail={}, attempts=1))


def test_rows_are_unchanged_and_the_schema_matches_the_models(database_at: Callable[[str], Engine]) -> None:
    engine = database_at("0012")
    _seed(engine)
    tables = ("lms_events", "course_completions", "awards", "ledger_entries")
    before = {table: _rows(engine, table) for table in tables}
    upgrade(engine)
    assert {table: _rows(engine, table) for table in tables} == before
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":  # the rebuilt table still answers every reference to it
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # SQLite keeps lms_events.status's old declared length (0006: SQLite enforces none).
    known = [d for d in diff if engine.dialect.name == "sqlite" and d[0][0] == "modify_type"
             and d[0][2:4] == ("lms_events", "status")]
    assert [d for d in diff if d not in known] == []


def test_an_event_stored_later_in_the_transaction_satisfies_its_completions(
        database_at: Callable[[str], Engine]) -> None:
    engine = database_at("0012")
    ids = _seed(engine)
    upgrade(engine)
    tables = _tables(engine)
    with engine.begin() as conn:
        _completion(conn, tables, ids, 1000, "first-the-completion")
        _event(conn, tables, ids, 1000)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        _completion(conn, tables, ids, 2000, "an-event-never-stored")
    assert [row["course_id"] for row in _rows(engine, "course_completions")] == ["hipaa", "first-the-completion"]


def test_only_events_to_retry_are_in_the_status_index(database_at: Callable[[str], Engine]) -> None:
    engine = database_at("0012")
    ids = _seed(engine)
    upgrade(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE lms_events")  # counts the index's entries
            [count] = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = 'ix_lms_events_retry'").one()
        else:
            [count] = conn.exec_driver_sql("SELECT count(*) FROM lms_events INDEXED BY ix_lms_events_retry "
                                           "WHERE status IN ('failed', 'parked')").one()
        [failed] = conn.exec_driver_sql("SELECT id FROM lms_events WHERE status = 'failed'").one()
    assert count == 1 and failed == ids["failed"]


def test_it_goes_back_down_to_a_reference_checked_at_once_and_up_again(database_at: Callable[[str], Engine]) -> None:
    engine = database_at("0012")
    ids = _seed(engine)
    upgrade(engine)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0012")
    tables = _tables(engine)
    with engine.begin() as conn:
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # at the insert, not at commit
            _completion(conn, tables, ids, 3000, "before-its-event")
        assert "ix_awards_learner_id" in {i["name"] for i in sa.inspect(conn).get_indexes("awards")}
    upgrade(engine)
    assert len(_rows(engine, "course_completions")) == 1
