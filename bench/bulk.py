"""Filling a benchmark's database in bulk: learners, completions, awards, ledger entries and outbox
claims written with multi-row inserts (not through the ingest path, which ``ingest.py`` measures).

Ids are given explicitly, so rows can point at each other without reading them back; on PostgreSQL
the sequences are moved past them afterwards and the tables analysed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from harness import ROOT  # noqa: F401 - puts this checkout first on sys.path, before lti_tool is imported
from sqlalchemy import Connection, Engine

from lti_tool import models

CHUNK = 5000
STARTED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TABLES = ("sources", "lms_events", "course_mappings", "learners", "learner_credentials",
          "course_completions", "awards", "ledger_entries", "outbox_claims")


class Filler:
    """Rows collected per table, inserted in :data:`CHUNK`-row statements by :meth:`write`."""

    def __init__(self) -> None:
        self.rows: dict[Any, list[dict[str, Any]]] = {}
        self.awards = 0
        self.completions = 0

    def add(self, model: Any, **row: Any) -> None:
        self.rows.setdefault(model.__table__, []).append(row)

    def source(self, source_id: int, name: str, kind: str = "moodle") -> None:
        self.add(models.Source, id=source_id, kind=kind, name=name, token_hash=f"bench-{name}",
                 secret_hash="-", created_at=STARTED)
        self.add(models.LmsEvent, id=source_id, source_id=source_id, body="{}", parsed=[], status="processed",
                 detail={}, attempts=1, received_at=STARTED)

    def mapping(self, source_id: int, course: str, title: str, credentials: list[str], minutes: int = 90) -> None:
        self.add(models.CourseMapping, source_id=source_id, course_id=course, title=title, minutes=minutes,
                 credentials=credentials, activity="education", facts={}, use_measured_time=False,
                 updated_at=STARTED)

    def learner(self, learner_id: int, source_id: int, lms_user_id: str, name: str) -> None:
        self.add(models.Learner, id=learner_id, source_id=source_id, lms_user_id=lms_user_id, name=name,
                 email=f"{lms_user_id}@example.org", created_at=STARTED)

    def holding(self, learner_id: int, credential: str, number: str | None,
                certified_on: Any = None) -> None:
        self.add(models.LearnerCredential, learner_id=learner_id, credential=credential, number=number,
                 certified_on=certified_on, created_at=STARTED)

    def completion(self, learner_id: int, source_id: int, course: str, minute: int) -> int:
        """A completion ``minute`` minutes after :data:`STARTED`; returns its id."""
        self.completions += 1
        when = STARTED + timedelta(minutes=minute)
        self.add(models.CourseCompletion, id=self.completions, learner_id=learner_id, source_id=source_id,
                 course_id=course, course_name=None, completed_at=when, event_id=source_id, created_at=when)
        return self.completions

    def award(self, completion_id: int, learner_id: int, source_id: int, course: str, credential: str,
              minute: int, amount: Decimal = Decimal("1.5"), unit: str = "CE") -> None:
        """An award with its ledger entry and outbox claim (ids equal to the award's)."""
        self.awards += 1
        n = self.awards
        when = STARTED + timedelta(minutes=minute)
        self.add(models.Award, id=n, completion_id=completion_id, learner_id=learner_id, source_id=source_id,
                 course_id=course, course_key=f"course:{course}", period=f"completion:{completion_id}",
                 credential=credential, revision=0, amount=amount, unit=unit, category=None,
                 index_number=None, reason="90 minutes", tags=[], minutes=90, activity={"minutes": 90},
                 rule_version=f"{credential}/1", settings={}, completed_at=when, created_at=when)
        self.add(models.LedgerEntry, id=n, award_id=n, kind="credit", amount=amount, reason="90 minutes",
                 created_at=when)
        self.add(models.OutboxClaim, id=n, ledger_entry_id=n, credential=credential,
                 idempotency_key=f"{n:064x}", batch_id=None, created_at=when)

    def write(self, engine: Engine) -> None:
        with engine.begin() as conn:
            for table in models.Base.metadata.sorted_tables:
                rows = self.rows.get(table, [])
                for start in range(0, len(rows), CHUNK):
                    conn.execute(table.insert(), rows[start:start + CHUNK])
            if engine.dialect.name == "postgresql":
                _advance_sequences(conn)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        self.rows.clear()


def _advance_sequences(conn: Connection) -> None:
    for table in TABLES:
        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT coalesce(max(id), 1) FROM {table}))")
