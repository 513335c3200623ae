"""Ingest benchmark: completion events over HTTP against the real server, next to a bare durable insert.

Starts ``lti-tool serve`` on 127.0.0.1 with a fresh database (SQLite in a temporary folder, or
``DATABASE_URL``, which must name an empty database) and the ceiling route
``POST /bench/durable-insert`` enabled (``bench.durable_insert_route``: the raw body into one table,
one committed transaction per request, fsync on). Then:

1. events/s: distinct Canvas completion events (each mapped to two credentials), from ``--clients``
   keep-alive clients sending as fast as answers come, against the ceiling route with the same
   bodies; in ``--rounds`` alternating rounds, the best round of each counted;
2. p99 latency with events offered at ``--rate`` per second (open loop, from when each was due);
3. the server's peak memory (its process tree: PSS, which counts a page shared by the gunicorn
   master and a forked worker once; RSS summed over the processes is printed beside it).

Each round also prints the CPU a request cost the server and, on PostgreSQL, the database (every
``postgres`` process on this machine: run it with nothing else using PostgreSQL): with the
database, the server and the clients on the same cores, the ratio cannot exceed the ratio of those
costs.

It checks afterwards that every event was stored once and became exactly one award per credential,
and that the ceiling stored every body. Targets: ratio >= 0.8, p99 < 50 ms at 200/s, RSS < 200 MB.

    .venv/bin/python bench/ingest.py [--events 4000] [--clients 8] [--rate 200] [--rate-seconds 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from harness import (
    ROOT,
    MemoryPeak,
    PostgresCpu,
    Request,
    absolute_line,
    check,
    fresh_runtime,
    load_average,
    quantile,
    ratio_line,
    run_closed,
    run_open,
    serve,
    server_env,
    tree_cpu_seconds,
)
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.server import worker_count
from lti_tool.services.mappings import MappingSpec, import_mappings
from lti_tool.services.sources import add_source
from lti_tool.web.durable_insert import RAW_BODIES

SAMPLE = json.loads((ROOT / "tests/fixtures/lms/canvas_course_completed.json").read_text())
JSON = {"Content-Type": "application/json"}
CREDENTIALS = ["acmss-cmss", "iacet-ceu"]


def event_body(user: int) -> bytes:
    event = json.loads(json.dumps(SAMPLE))
    event["body"]["user"]["id"] = str(user)
    return json.dumps(event).encode()


class Users:
    """Distinct learner ids, so every event posted is a new completion."""

    def __init__(self) -> None:
        self.next = 10_000

    def bodies(self, n: int) -> list[bytes]:
        self.next += n
        return [event_body(u) for u in range(self.next - n, self.next)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="per route, over all rounds")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200.0, help="offered events/s for the latency figure")
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=0, help="0: the server's own choice (1 on SQLite)")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        rt = fresh_runtime(Path(tmp), log_level="WARNING")
        with write_session(rt.sessions) as session:
            source = add_source(session, kind="canvas", name="bench-canvas")
            import_mappings(session, [MappingSpec(source="bench-canvas", course="565", minutes=90,
                                                  credentials=CREDENTIALS)], rt.rulebook)
        env = server_env(rt.settings, LTI_TOOL_SERVER__WORKERS=str(args.workers),
                         LTI_TOOL_SERVER__THREADS=str(args.threads), LTI_TOOL_BENCH__DURABLE_INSERT_ROUTE="true")
        users = Users()
        postgres = rt.engine.dialect.name == "postgresql"
        posted = ceiling_posted = 0
        workers = args.workers or worker_count(rt.settings)
        print(f"database: {rt.engine.dialect.name}; server: {workers} process(es) x {args.threads} threads; "
              f"{args.clients} keep-alive clients; {load_average()}")
        with serve(env) as (server, port), MemoryPeak(server.pid) as memory:
            def events(bodies: list[bytes]) -> list[Request]:
                return [("POST", source.url, b, JSON) for b in bodies]

            def ceiling(bodies: list[bytes]) -> list[Request]:
                return [("POST", "/bench/durable-insert", b, JSON) for b in bodies]

            warm = users.bodies(100)  # first connections, caches, the JWKS of the sample's source
            run_closed(port, events(warm) + ceiling(warm), args.clients)
            posted += len(warm)
            ceiling_posted += len(warm)
            trivial_seconds, _, _ = run_closed(port, [("GET", "/healthz", b"", {})] * 2000, args.clients)
            print(f"GET /healthz: {2000 / trivial_seconds:.0f} req/s (for reference)")

            per_round = max(args.events // args.rounds, 100)
            best = {"ceiling": 0.0, "events": 0.0}
            for round_ in range(1, args.rounds + 1):
                for name, build in (("ceiling", ceiling), ("events", events)):
                    bodies = users.bodies(per_round)
                    cpu = tree_cpu_seconds(server.pid)
                    with PostgresCpu() as database_cpu:
                        seconds, latencies, errors = run_closed(port, build(bodies), args.clients)
                    cpu_ms = (tree_cpu_seconds(server.pid) - cpu) * 1000 / per_round
                    db_ms = database_cpu.seconds * 1000 / per_round
                    if name == "events":
                        posted += per_round
                    else:
                        ceiling_posted += per_round
                    rate = per_round / seconds
                    best[name] = max(best[name], rate)
                    print(f"round {round_} {name:<8} {rate:7.1f} /s  p50 {quantile(latencies, 50) * 1000:6.2f} ms"
                          f"  p99 {quantile(latencies, 99) * 1000:6.2f} ms  server CPU {cpu_ms:.2f} ms/request"
                          + (f"  PostgreSQL CPU {db_ms:.2f} ms/request" if postgres else "")
                          + f"  errors {errors}")
                    if errors:
                        raise SystemExit(f"FAILED: {errors} {name} requests were not accepted")

            offered = int(args.rate * args.rate_seconds)
            _, latencies, errors = run_open(port, events(users.bodies(offered)), args.clients, args.rate)
            posted += offered
            p99 = quantile(latencies, 99) * 1000
            print(f"offered {args.rate:g} events/s for {args.rate_seconds:g} s: p50 "
                  f"{quantile(latencies, 50) * 1000:.2f} ms, p99 {p99:.2f} ms, max {max(latencies) * 1000:.2f} ms, "
                  f"errors {errors}")
            print(f"after the run: {load_average()}")
        print(f"server memory at its peak: {memory.pss_mb:.1f} MB PSS, {memory.rss_mb:.1f} MB RSS summed over "
              "its processes (counting pages a worker shares with the gunicorn master twice)")

        with rt.sessions() as session:
            check("stored events", session.scalar(select(func.count()).select_from(models.LmsEvent)) or 0, posted)
            check("awards", session.scalar(select(func.count()).select_from(models.Award)) or 0,
                  len(CREDENTIALS) * posted)
            check("ceiling rows", session.scalar(select(func.count()).select_from(RAW_BODIES)) or 0, ceiling_posted)
        rt.engine.dispose()

        print(ratio_line(f"ingest events/s ({rt.engine.dialect.name})", best["events"], "events/s",
                         best["ceiling"], 0.8))
        print(absolute_line(f"ingest p99 at {args.rate:g}/s ({rt.engine.dialect.name})", p99, "ms", 50))
        print(absolute_line(f"ingest server memory, PSS ({rt.engine.dialect.name})", memory.pss_mb, "MB", 200))


if __name__ == "__main__":
    main()
