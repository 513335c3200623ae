"""Backfill benchmark: ``lti-tool completions import`` of N generated completions into a fresh SQLite
database, each course mapped to two credentials (so every row makes a learner, a completion, two
awards, two ledger entries and two outbox claims).

Prints rows/s and the import process's peak RSS, and beside them a bare ``executemany`` of the
same completion rows into the same table (``course_completions`` of another fresh database, one
transaction, no crediting) in the same run, and the ratio of the two rates.
Targets: 1,000,000 rows in under 3 minutes, ratio at least 0.25, RSS under 300 MB.
It checks afterwards that every row became exactly one completion and two awards.

``--floor`` also copies every row the import wrote into another fresh database by bare
``executemany`` (one a table, no Python between them) and prints the import's rate against that
floor: about 70 s more at 1,000,000 rows, which would take the run past five minutes on a slow
machine, so it is asked for.

    .venv/bin/python bench/backfill.py [--rows 1000000] [--courses 20] [--chunk-size 5000] [--floor]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import absolute_line, check, load_average, ratio_line  # noqa: E402

from lti_tool import models  # noqa: E402
from lti_tool.db import make_engine, write_session  # noqa: E402
from lti_tool.runtime import build_runtime  # noqa: E402
from lti_tool.schema import upgrade  # noqa: E402
from lti_tool.services.mappings import MappingSpec, import_mappings  # noqa: E402
from lti_tool.services.sources import add_source  # noqa: E402
from lti_tool.settings import load_settings  # noqa: E402

CREDENTIALS = ["acmss-cmss", "iacet-ceu"]
START = datetime(2024, 1, 1, tzinfo=UTC)


def row(i: int, courses: int) -> tuple[str, str, str]:
    return str(i // courses + 1), f"course-{i % courses}", (START + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, rows: int, courses: int) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["user_id", "course_id", "completed_at"])
        writer.writerows(row(i, courses) for i in range(rows))


def prepare(instance: Path, courses: int) -> str:
    settings = load_settings(instance_dir=instance, config_dir=ROOT / "config", log_level="WARNING")
    rt = build_runtime(settings)
    upgrade(rt.engine)
    with write_session(rt.sessions) as session:
        add_source(session, kind="moodle", name="bench-moodle")
        import_mappings(session, [MappingSpec(source="bench-moodle", course=f"course-{c}", minutes=60,
                                              credentials=CREDENTIALS) for c in range(courses)], rt.rulebook)
    rt.engine.dispose()
    return settings.effective_database_url


def bare_executemany(instance: Path, rows: int, courses: int) -> float:
    """The floor: the same completion rows into the same table, one executemany, one commit."""
    instance.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{instance / 'lti_tool.sqlite3'}")
    upgrade(engine)
    engine.dispose()
    connection = sqlite3.connect(instance / "lti_tool.sqlite3")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    now = datetime.now(UTC).isoformat()
    started = time.perf_counter()
    with connection:
        connection.executemany(
            "INSERT INTO course_completions (learner_id, source_id, course_id, course_name, completed_at, "
            "measured_minutes, event_id, created_at) VALUES (?, 1, ?, NULL, ?, NULL, 1, ?)",
            ((i // courses + 1, f"course-{i % courses}", (START + timedelta(minutes=i)).isoformat(), now)
             for i in range(rows)))
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


WRITTEN = ("learners", "course_completions", "awards", "ledger_entries", "outbox_claims")
"""The tables an import writes: one row a CSV row, or one a row and credential."""


def bare_executemany_of_written(imported: Path, instance: Path) -> tuple[float, int]:
    """The floor of the import's own writes: every row the import wrote (the tables in
    ``WRITTEN``, read back from its database) into the same tables of another fresh database, one
    ``executemany`` a table, one transaction, no Python between them. Returns seconds and rows."""
    instance.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{instance / 'lti_tool.sqlite3'}")
    upgrade(engine)
    engine.dispose()
    source = sqlite3.connect(imported)
    connection = sqlite3.connect(instance / "lti_tool.sqlite3")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    # Rows other than the import's (the mappings' source, the learner ids it points at) stay.
    connection.execute(f"ATTACH DATABASE '{imported}' AS imported")
    connection.executescript("INSERT INTO main.sources SELECT * FROM imported.sources;"
                             "INSERT INTO main.course_mappings SELECT * FROM imported.course_mappings;"
                             "INSERT INTO main.lms_events SELECT * FROM imported.lms_events;")
    connection.commit()
    connection.execute("DETACH DATABASE imported")
    tables = {name: source.execute(f"SELECT * FROM {name}").fetchall() for name in WRITTEN}
    source.close()
    started = time.perf_counter()
    with connection:
        for name, rows in tables.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                connection.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
    seconds = time.perf_counter() - started
    connection.close()
    return seconds, sum(len(rows) for rows in tables.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--floor", action="store_true",
                        help="also measure bare executemany of every row the import wrote (about 70 s more)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lti-backfill-") as folder:
        base = Path(folder)
        csv_path = base / "history.csv"
        write_csv(csv_path, args.rows, args.courses)
        url = prepare(base / "import", args.courses)
        env = {**os.environ, "DATABASE_URL": url, "LTI_TOOL_INSTANCE_DIR": str(base / "import"),
               "LTI_TOOL_CONFIG_DIR": str(ROOT / "config"), "LTI_TOOL_LOG_LEVEL": "WARNING"}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "lti_tool", "completions", "import", str(csv_path),
                               "--source", "bench-moodle", "--chunk-size", str(args.chunk_size), "--json"],
                              env=env, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        bare = bare_executemany(base / "bare", args.rows, args.courses)
        floor, written = bare_executemany_of_written(
            Path(url.removeprefix("sqlite:///")), base / "floor") if args.floor else (0.0, 0)
        rt = build_runtime(load_settings(database_url=url, instance_dir=base / "import",
                                         config_dir=ROOT / "config", log_level="WARNING"))
        with rt.sessions() as session:
            completions = session.scalar(select(func.count()).select_from(models.CourseCompletion))
            awards = session.scalar(select(func.count()).select_from(models.Award))
        rt.engine.dispose()
    rate, bare_rate = args.rows / seconds, args.rows / bare
    print(f"rows: {args.rows:,} ({args.courses} courses, {len(CREDENTIALS)} credentials each)")
    print(f"import: {seconds:.1f} s, {rate:,.0f} rows/s, peak RSS {peak_mb:.0f} MB, "
          f"CPU {cpu:.1f} s (the rest of the time is waiting: for the disk, or for a core on a loaded machine)")
    print(f"summary: {done.stdout.strip()[:300]}")
    print(f"bare executemany of the same completion rows: {bare:.1f} s, {bare_rate:,.0f} rows/s")
    if args.floor:
        print(f"bare executemany of every row the import wrote ({written:,} rows in {len(WRITTEN)} tables, "
              f"with their indexes): {floor:.1f} s, {args.rows / floor:,.0f} CSV rows/s: the import's "
              f"rate is {rate * floor / args.rows:.2f} of that floor, which is itself "
              f"{bare / floor:.2f} of the completion-rows ceiling")
    print(f"after the run: {load_average()}")
    check("completions", completions or 0, args.rows)
    check("awards", awards or 0, args.rows * len(CREDENTIALS))
    print(absolute_line(f"import of {args.rows:,} rows", seconds, "s", 180))
    print(ratio_line("import rows/s", rate, "rows/s", bare_rate, 0.25))
    print(absolute_line("import peak RSS", peak_mb, "MB", 300))


if __name__ == "__main__":
    main()
