"""Export benchmark: one export tick rendering ``--claims`` claims with ``claims-csv`` to the
directory destination, next to ``csv.writer`` of the same rows read from the same database.

Fills a fresh database (SQLite in a temporary folder, or ``DATABASE_URL``, which must name an
empty database) with learners, their member numbers, completions, awards, ledger entries and
outbox claims of one credential (bulk inserts, not the ingest path), then times
:func:`lti_tool.services.exporting.run_export_tick` (what the scheduler's export job runs: form
batches of ``[delivery] max_claims_per_batch`` claims, lease, render, write each file with fsync,
record). The ceiling reads the same claims with one query of the same joins and writes them with
``csv.writer`` to one file (fsync), best of a run before and after the tick. Afterwards it checks
that every claim was delivered once: every outbox row is in a delivered batch and the files hold
each claim key exactly once. Target: ratio >= 0.3.

    .venv/bin/python bench/export.py [--claims 100000] [--batch 200]
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

from bulk import Filler
from harness import PostgresCpu, check, fresh_runtime, load_average, ratio_line
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.runtime import Runtime
from lti_tool.services.exporting import run_export_tick

CREDENTIAL = "acmss-cmss"
COURSES = 4


def exports_toml(folder: Path, batch: int) -> Path:
    path = folder / "exports.toml"
    path.write_text(f"""[delivery]
max_claims_per_batch = {batch}

[destinations.files]
type = "directory"
path = "{folder / 'exports'}"

[credentials.{CREDENTIAL}]
exporter = "claims-csv"
destination = "files"
""")
    return path


def fill(rt: Runtime, claims: int) -> None:
    """``claims`` claims of one credential: learners (with member numbers) x ``COURSES`` courses."""
    data = Filler()
    data.source(1, "bench-moodle")
    for c in range(COURSES):
        data.mapping(1, f"course-{c}", f"Front desk module {c}", [CREDENTIAL])
    for n in range(1, -(-claims // COURSES) + 1):
        data.learner(n, 1, str(100_000 + n), f"Learner {n}")
        data.holding(n, CREDENTIAL, f"CMSS-{n:06d}")
    for i in range(1, claims + 1):
        learner, course = (i - 1) // COURSES + 1, f"course-{(i - 1) % COURSES}"
        completion = data.completion(learner, 1, course, minute=i)
        data.award(completion, learner, 1, course, CREDENTIAL, minute=i)
    data.write(rt.engine)


def csv_writer_ceiling(rt: Runtime, folder: Path) -> tuple[float, int]:
    """The same claims read with one query of the same joins, written with csv.writer to one file."""
    m = models
    query = (
        select(m.OutboxClaim.idempotency_key, m.LedgerEntry.kind, m.Award.id, m.Award.credential,
               m.Learner.lms_user_id, m.Learner.name, m.Learner.email, m.LearnerCredential.number,
               m.Source.name, m.Award.course_id, m.CourseMapping.title, m.Award.completed_at, m.Award.minutes,
               m.LedgerEntry.amount, m.Award.unit, m.Award.category, m.Award.index_number, m.Award.rule_version)
        .join(m.LedgerEntry, m.LedgerEntry.id == m.OutboxClaim.ledger_entry_id)
        .join(m.Award, m.Award.id == m.LedgerEntry.award_id)
        .join(m.Learner, m.Learner.id == m.Award.learner_id)
        .join(m.Source, m.Source.id == m.Award.source_id)
        .outerjoin(m.LearnerCredential, and_(m.LearnerCredential.learner_id == m.Learner.id,
                                             m.LearnerCredential.credential == m.Award.credential))
        .outerjoin(m.CourseMapping, and_(m.CourseMapping.source_id == m.Award.source_id,
                                         m.CourseMapping.course_id == m.Award.course_id))
        .order_by(m.OutboxClaim.id)
    )
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    rows = 0
    with rt.engine.connect() as conn, open(folder / "ceiling.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        for row in conn.execute(query):
            writer.writerow(row)
            rows += 1
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - began, rows


def exported_keys(folder: Path) -> list[str]:
    keys: list[str] = []
    for path in sorted((folder / CREDENTIAL).glob("*.csv")):
        with open(path, newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            keys.extend(row[0] for row in reader)
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=200, help="[delivery] max_claims_per_batch (shipped: 200)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rt = fresh_runtime(folder, exports_path=exports_toml(folder, args.batch), log_level="WARNING")
        began = time.perf_counter()
        fill(rt, args.claims)
        print(f"database: {rt.engine.dialect.name}; {args.claims} claims of {CREDENTIAL} in batches of "
              f"{args.batch}, filled in {time.perf_counter() - began:.1f} s; {load_average()}")

        first, rows = csv_writer_ceiling(rt, folder / "ceiling")
        check("rows read by the ceiling", rows, args.claims)
        began, cpu = time.perf_counter(), time.process_time()
        with PostgresCpu() as server:
            report = run_export_tick(rt.sessions, rt.exports, rt.settings.exports)
        tick, cpu = time.perf_counter() - began, time.process_time() - cpu
        second, _ = csv_writer_ceiling(rt, folder / "ceiling")
        ceiling = min(first, second)
        print(f"export tick: {tick:.2f} s for {len(report.delivered)} batches ({len(report.failed)} failed); "
              f"csv.writer: {first:.2f} s and {second:.2f} s; {load_average()}")
        postgresql = rt.engine.dialect.name == "postgresql"
        on_server = f", {server.seconds:.2f} s in PostgreSQL's processes" if postgresql else ""
        print(f"export tick CPU: {cpu:.2f} s in this process (every thread){on_server}")

        with Session(rt.engine) as session:
            check("claims outside a delivered batch", session.scalar(
                select(func.count()).select_from(models.OutboxClaim)
                .outerjoin(models.ExportBatch, models.ExportBatch.id == models.OutboxClaim.batch_id)
                .where((models.ExportBatch.status.is_(None)) | (models.ExportBatch.status != "delivered"))) or 0, 0)
        keys = exported_keys(folder / "exports")
        check("claim rows in the exported files", len(keys), args.claims)
        check("distinct claim keys in the exported files", len(set(keys)), args.claims)
        check("batches delivered", len(report.delivered), -(-args.claims // args.batch))
        rt.engine.dispose()
        print(ratio_line(f"export claims/s ({rt.engine.dialect.name})", args.claims / tick, "claims/s",
                         args.claims / ceiling, 0.3))


if __name__ == "__main__":
    main()
