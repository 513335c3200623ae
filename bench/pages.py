"""Pages benchmark: the instructor page of a course of ``--learners`` learners with 3 credentials
each, the learner page of a learner with 500 awards toward 4 credentials, and renewal progress over
those 500 awards, next to ``GET /healthz`` of the same server in the same run.

Fills a fresh database (SQLite in a temporary folder, or ``DATABASE_URL``, which must name an empty
database) in bulk, starts ``lti-tool serve`` on 127.0.0.1 and the tests' LTI test platform (real
keys, JWKS over HTTP), launches as the course's instructor and as the learner through the real OIDC
login and launch, then opens each page ``--views`` times, one after the other (a person waits for a
page), and prints p50/p95. Progress is :func:`lti_tool.services.learners.progress` in-process (what
the learner page and ``lti-tool learners progress`` call). Afterwards it checks that the pages showed
the work: the course's CSV has a row per learner and credential, the learner's page every award.

The instructor page has no paging yet (#12 adds paging and search): ``--instructor-path`` points the
benchmark at another URL of it, e.g. ``/lti/course?page=1``. ``--explain`` prints the query plans of
the instructor page's queries (``EXPLAIN ANALYZE`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite).

Targets: instructor page p95 < 200 ms, learner page p95 < 100 ms, progress p95 < 100 ms.

    .venv/bin/python bench/pages.py [--learners 10000] [--views 30] [--explain]
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import statistics
import tempfile
import time
from datetime import UTC, date
from pathlib import Path
from typing import Any

from bulk import Filler
from harness import absolute_line, check, fresh_runtime, load_average, quantile, serve, server_env
from launching import INSTRUCTOR, LEARNER, TestPlatform, launch, register
from sqlalchemy import event

from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from lti_tool.services import learners as learner_service
from lti_tool.services.learners import LearnerKey
from lti_tool.web.views.course_view import RosterQuery, course_roster
from lti_tool.web.views.learner_view import learner_page

COURSE = "565"
"""The test platform's context id: the course the instructor's launch opens."""
COURSE_CREDENTIALS = ["aama-cma", "acmss-cmss", "amt-rma"]
LEARNER_CREDENTIALS = ["aama-cma", "acmss-cmss", "amt-rma", "nha-ccma"]
LEARNER_AWARDS = 500
LEARNER_SUB = "learner-500"
SOURCE = "bench-moodle"


def fill(rt: Runtime, learners: int) -> None:
    units = {rule.credential: rule.unit for rule in rt.rulebook}
    data = Filler()
    data.source(1, SOURCE)
    data.mapping(1, COURSE, "HIPAA basics", COURSE_CREDENTIALS)
    for n in range(1, learners + 1):
        data.learner(n, 1, f"student-{n}", f"Learner {n:05d}")
        completion = data.completion(n, 1, COURSE, minute=n)
        for credential in COURSE_CREDENTIALS:
            data.award(completion, n, 1, COURSE, credential, minute=n, unit=units[credential])
    me = learners + 1
    data.learner(me, 1, LEARNER_SUB, "Dana Reyes")
    for credential in LEARNER_CREDENTIALS:
        data.holding(me, credential, f"{credential.upper()}-4711", certified_on=date(2025, 3, 1))
    courses = LEARNER_AWARDS // len(LEARNER_CREDENTIALS)
    for c in range(courses):
        course = f"module-{c}"
        data.mapping(1, course, f"Front desk module {c}", LEARNER_CREDENTIALS, minutes=60)
        completion = data.completion(me, 1, course, minute=200_000 + c * 600)
        for credential in LEARNER_CREDENTIALS:
            data.award(completion, me, 1, course, credential, minute=200_000 + c * 600, unit=units[credential])
    data.write(rt.engine)


def views(browser: Any, url: str, n: int) -> tuple[list[float], str]:
    """Open the page ``n`` times; latencies and the last body."""
    latencies, body = [], ""
    for _ in range(n):
        started = time.perf_counter()
        answer = browser.get(url, timeout=60)
        latencies.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise SystemExit(f"FAILED: {url} answered {answer.status_code}: {answer.text[:300]}")
        body = answer.text
    return latencies, body


def summary(name: str, latencies: list[float]) -> str:
    return (f"{name:<28} p50 {statistics.median(latencies) * 1000:8.2f} ms   "
            f"p95 {quantile(latencies, 95) * 1000:8.2f} ms   ({len(latencies)} views)")


def explain(rt: Runtime, source_id: int, course: str) -> None:
    """The instructor page's queries for ``course`` (its first page, default sort) with their plans."""
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    with read_session(rt.sessions) as session:
        event.listen(rt.engine, "before_cursor_execute", seen)
        try:
            course_roster(session, identity_id=source_id, course_id=course, query=RosterQuery())
        finally:
            event.remove(rt.engine, "before_cursor_execute", seen)
    postgres = rt.engine.dialect.name == "postgresql"
    with rt.engine.connect() as conn:
        for statement, parameters in statements:
            short = " ".join(statement.split())
            print(f"\nquery: {short[:400]}{' …' if len(short) > 400 else ''}")
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            for row in conn.exec_driver_sql(prefix + statement, parameters):
                print("   ", row[0] if postgres else row[-1])
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--views", type=int, default=30)
    parser.add_argument("--instructor-path", default="/lti/course")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    platform = TestPlatform(context_id=COURSE).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt = fresh_runtime(Path(tmp), log_level="WARNING")
            began = time.perf_counter()
            fill(rt, args.learners)
            register(rt, platform, SOURCE)
            print(f"database: {rt.engine.dialect.name}; course {COURSE}: {args.learners} learners x "
                  f"{len(COURSE_CREDENTIALS)} credentials; learner {LEARNER_SUB}: {LEARNER_AWARDS} awards toward "
                  f"{len(LEARNER_CREDENTIALS)} credentials; filled in {time.perf_counter() - began:.1f} s; "
                  f"{load_average()}")
            if args.explain:
                print(f"\n== the instructor page's queries, course {COURSE} (most of the awards here)")
                explain(rt, 1, COURSE)
                print("== the same for course module-0 (4 awards of the learner's), where the course index decides")
                explain(rt, 1, "module-0")
            with serve(server_env(rt.settings)) as (_, port):
                base = f"http://127.0.0.1:{port}"
                teacher = launch(base, platform, sub="teacher-1", roles=INSTRUCTOR).browser
                learner = launch(base, platform, sub=LEARNER_SUB, roles=LEARNER).browser
                views(teacher, f"{base}{args.instructor_path}", 2)  # warm-up: first queries, templates
                views(learner, f"{base}/lti/learner", 2)
                trivial, _ = views(teacher, f"{base}/healthz", args.views)
                instructor, _ = views(teacher, f"{base}{args.instructor_path}", args.views)
                learner_views, learner_html = views(learner, f"{base}/lti/learner", args.views)
                print(summary("GET /healthz", trivial))
                print(summary(f"instructor {args.instructor_path}", instructor))
                print(summary("learner /lti/learner", learner_views))
                roster_csv = teacher.get(f"{base}/lti/course.csv", timeout=120).text

            progress_times = []
            with read_session(rt.sessions) as session:
                for _ in range(max(args.views // 2, 5)):
                    started = time.perf_counter()
                    results = learner_service.progress(session, rt.rulebook, key=LearnerKey(1, LEARNER_SUB),
                                                       on=date(2026, 12, 1), zone=UTC)
                    progress_times.append(time.perf_counter() - started)
                page = learner_page(session, rt.rulebook, identity_id=1, user=LEARNER_SUB, on=date(2026, 12, 1))
            print(summary("progress (in-process)", progress_times))
            print(f"after the run: {load_average()}")

            check("instructor CSV rows (learners x credentials)",
                  len(list(csv.DictReader(io.StringIO(roster_csv)))), args.learners * len(COURSE_CREDENTIALS))
            check("awards on the learner page", len(page.awards), LEARNER_AWARDS)
            check("courses named on the learner page's HTML",
                  len(set(re.findall(r"Front desk module (\d+)", learner_html))),
                  LEARNER_AWARDS // len(LEARNER_CREDENTIALS))
            check("credentials with progress", len(results), len(LEARNER_CREDENTIALS))
            rt.engine.dispose()
    finally:
        platform.stop()
    db = rt.engine.dialect.name
    print(f"ceiling: GET /healthz p95 {quantile(trivial, 95) * 1000:.2f} ms in the same run")
    print(absolute_line(f"instructor page p95, {args.learners} learners x 3 credentials ({db})",
                        quantile(instructor, 95) * 1000, "ms", 200))
    print(absolute_line(f"learner page p95, {LEARNER_AWARDS} awards x 4 credentials ({db})",
                        quantile(learner_views, 95) * 1000, "ms", 100))
    print(absolute_line(f"progress p95, {LEARNER_AWARDS} awards ({db})", quantile(progress_times, 95) * 1000,
                        "ms", 100))


if __name__ == "__main__":
    main()
