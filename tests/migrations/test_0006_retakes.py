"""Migration 0006: a database with awards made before retakes were keyed upgrades, and every old
award, ledger entry and outbox claim is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from lti_tool.credits.registry import load_rulebook
from lti_tool.models import Base
from lti_tool.runtime import Runtime
from lti_tool.schema import upgrade
from tests.migrations.conftest import insert_row

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def old_database(database_at: Callable[[str], Engine]) -> Engine:
    """A database at revision 0005."""
    return database_at("0005")


def _award(conn: sa.Connection, tables: sa.MetaData, completion: int, learner: int, source: int, course: str,
           credential: str, amount: str, index_number: str | None = None, revision: int = 0) -> int:
    amount_value: Any = Decimal(amount) if conn.dialect.name == "postgresql" else amount
    award = insert_row(conn, tables, "awards", completion_id=completion, learner_id=learner, source_id=source,
                    course_id=course, credential=credential, revision=revision, amount=amount_value,
                    unit="CEUs", category=None, index_number=index_number, reason=f"{amount} for {course}",
                    tags=["approved"], minutes=120, activity={"minutes": 120, "type": "education"},
                    rule_version="v1", settings={"step": "0.25"}, completed_at=NOW, created_at=NOW)
    entry = insert_row(conn, tables, "ledger_entries", award_id=award, kind="credit", amount=amount_value,
                    reason="r", created_at=NOW)
    insert_row(conn, tables, "outbox_claims", ledger_entry_id=entry, credential=credential,
            idempotency_key=f"key-{award}", created_at=NOW)
    return award


def _seed(engine: Engine) -> None:
    tables = sa.MetaData()
    tables.reflect(engine)
    with engine.begin() as conn:
        source = insert_row(conn, tables, "sources", kind="moodle", name="m", token_hash="t" * 64,
                         secret_hash="s" * 64, created_at=NOW)
        event = insert_row(conn, tables, "lms_events", source_id=source, received_at=NOW, body="{}", parsed=[],
                        status="credited", detail={}, attempts=1)
        learner = insert_row(conn, tables, "learners", source_id=source, lms_user_id="42", created_at=NOW)
        insert_row(conn, tables, "learner_credentials", learner_id=learner, credential="nha-ccma",
                certified_on=date(2024, 3, 1), created_at=NOW)
        completions = [
            insert_row(conn, tables, "course_completions", learner_id=learner, source_id=source, course_id=course,
                    completed_at=NOW, event_id=event, created_at=NOW)
            for course in ("hipaa", "billing-a", "billing-b")
        ]
        _award(conn, tables, completions[0], learner, source, "hipaa", "nha-ccma", "2")
        _award(conn, tables, completions[0], learner, source, "hipaa", "iacet-ceu", "0.2")
        _award(conn, tables, completions[1], learner, source, "billing-a", "aapc-cppm", "2", "AAPC-1")
        # The bug this migration meets in the field: one AAPC index number under two LMS courses.
        _award(conn, tables, completions[2], learner, source, "billing-b", "aapc-cppm", "2", "AAPC-1")
        _award(conn, tables, completions[2], learner, source, "billing-b", "gone-plugin", "1")


def _rows(engine: Engine, table: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))  # noqa: S608 - fixed names
        return [dict(row._mapping) for row in result]


def test_old_awards_ledger_entries_and_claims_are_unchanged(old_database: Engine) -> None:
    _seed(old_database)
    before = {t: _rows(old_database, t) for t in ("awards", "ledger_entries", "outbox_claims", "course_completions")}
    upgrade(old_database)
    after = {t: _rows(old_database, t) for t in before}
    old_columns = set(before["awards"][0])
    assert [{k: v for k, v in row.items() if k in old_columns} for row in after["awards"]] == before["awards"]
    for table in ("ledger_entries", "outbox_claims", "course_completions"):
        assert after[table] == before[table]


def test_old_awards_get_the_retake_key_their_plugin_gives(old_database: Engine) -> None:
    _seed(old_database)
    upgrade(old_database)
    keys = [(row["credential"], row["course_key"], row["period"]) for row in _rows(old_database, "awards")]
    assert keys == [
        ("nha-ccma", "course:hipaa", "cycle:2024-03-01"),
        ("iacet-ceu", "course:hipaa", "year:2026"),
        ("aapc-cppm", "index:AAPC-1", "ever"),
        ("aapc-cppm", "index:AAPC-1", f"legacy:{_rows(old_database, 'awards')[3]['id']}"),
        ("gone-plugin", "course:billing-b", f"legacy:{_rows(old_database, 'awards')[4]['id']}"),
    ]


def test_after_the_upgrade_a_retake_is_a_completion_of_its_own(old_database: Engine) -> None:
    _seed(old_database)
    upgrade(old_database)
    tables = sa.MetaData()
    tables.reflect(old_database)
    with old_database.begin() as conn:
        [first] = conn.execute(sa.text("SELECT learner_id, source_id, event_id FROM course_completions "
                                       "WHERE course_id = 'hipaa'")).all()
        insert_row(conn, tables, "course_completions", learner_id=first.learner_id, source_id=first.source_id,
                course_id="hipaa", completed_at=datetime(2027, 1, 2, tzinfo=UTC), event_id=first.event_id,
                created_at=NOW)
    with pytest.raises(sa.exc.IntegrityError), old_database.begin() as conn:
        insert_row(conn, tables, "course_completions", learner_id=first.learner_id, source_id=first.source_id,
                course_id="hipaa", completed_at=NOW, event_id=first.event_id, created_at=NOW)


def test_foreign_keys_still_hold_after_the_sqlite_rebuild(old_database: Engine) -> None:
    if old_database.dialect.name != "sqlite":
        pytest.skip("SQLite alone rebuilds tables")
    _seed(old_database)
    upgrade(old_database)
    with old_database.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("INSERT INTO ledger_entries (award_id, kind, amount, reason, created_at) "
                                 "VALUES (999, 'credit', '1', 'r', '2026-01-01 00:00:00')"))


def test_the_migrated_awards_and_completions_match_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    mine = ("'awards'", "'course_completions'", "'renewal_confirmations'", "uq_awards", "uq_course_completions",
            "renewal_confirmations", "outside_credits")
    assert [d for d in diff if any(name in repr(d) for name in mine)] == []


def test_upgraded_by_init_old_awards_are_keyed_with_the_configured_rules(
        old_database: Engine, tmp_path: Path) -> None:
    """``config/credit_rules.toml`` can change a cycle (here NHA's 24 months to 12): the keys must be
    the ones the deployment's plugins give, or a retake would earn twice in one configured cycle."""
    overrides = tmp_path / "credit_rules.toml"
    overrides.write_text("[nha-ccma]\ncycle_months = 12\n")
    rulebook = load_rulebook(overrides, ZoneInfo("America/New_York"))
    _seed(old_database)
    upgrade(old_database, rulebook=rulebook)
    periods = {row["credential"]: row["period"] for row in _rows(old_database, "awards")}
    # Completed 2026-01-02 (UTC and New York); NHA certified 2024-03-01: 24 months gives the cycle
    # from 2024-03-01, the configured 12 months the one from 2025-03-01.
    assert (periods["nha-ccma"], periods["iacet-ceu"]) == ("cycle:2025-03-01", "year:2026")
