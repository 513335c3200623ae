"""Ingest benchmark: completion events over HTTP against the real server, next to a trivial endpoint.

Starts ``lti-tool serve`` on 127.0.0.1 with a fresh database (SQLite in a temporary folder, or
``DATABASE_URL`` if set), posts N distinct Canvas completion events from concurrent keep-alive
clients, and prints events/s and p50/p99 latency beside the same figures for ``GET /healthz`` of the
same server in the same run, and their ratio. Target: ingest at least half the trivial rate.
It checks afterwards that every event became exactly one award per credential (nothing lost).

    .venv/bin/python bench/ingest.py [--events 2000] [--clients 8] [--workers 0] [--threads 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_tool import models  # noqa: E402
from lti_tool.db import write_session  # noqa: E402
from lti_tool.runtime import build_runtime  # noqa: E402
from lti_tool.schema import upgrade  # noqa: E402
from lti_tool.server import worker_count  # noqa: E402
from lti_tool.services.mappings import MappingSpec, import_mappings  # noqa: E402
from lti_tool.services.sources import add_source  # noqa: E402
from lti_tool.settings import load_settings  # noqa: E402

SAMPLE = json.loads((ROOT / "tests/fixtures/lms/canvas_course_completed.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event_body(user: int) -> bytes:
    event = json.loads(json.dumps(SAMPLE))
    event["body"]["user"]["id"] = str(user)
    return json.dumps(event).encode()


def run_clients(port: int, requests_: list[tuple[str, str, bytes]], clients: int) -> tuple[float, list[float], int]:
    """Send the requests from `clients` keep-alive connections; return (seconds, latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    chunks = [requests_[i::clients] for i in range(clients)]

    def worker(chunk: list[tuple[str, str, bytes]]) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        bad = 0
        for method, path, body in chunk:
            start = time.perf_counter()
            conn.request(method, path, body=body or None, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status >= 300:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began, latencies, errors


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_tree_cpu(child) for child in children)


def measure(name: str, server: subprocess.Popen[bytes], port: int,
            requests_: list[tuple[str, str, bytes]], clients: int) -> float:
    """Send the requests; print the rate, latencies and the server's CPU time per request."""
    cpu_before = process_tree_cpu(server.pid)
    seconds, latencies, errors = run_clients(port, requests_, clients)
    cpu_ms = (process_tree_cpu(server.pid) - cpu_before) * 1000 / len(requests_)
    rate = len(latencies) / seconds
    q = statistics.quantiles(latencies, n=100)
    print(f"{name:<22} {rate:9.1f} req/s   p50 {q[49]*1000:7.2f} ms   p99 {q[98]*1000:7.2f} ms   "
          f"server CPU {cpu_ms:5.2f} ms/req   errors {errors}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=0, help="0: the server's own choice (1 on SQLite)")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        settings = load_settings(instance_dir=instance, config_dir=ROOT / "config")
        rt = build_runtime(settings)
        upgrade(rt.engine)
        with write_session(rt.sessions) as session:
            source = add_source(session, kind="canvas", name="bench-canvas")
            import_mappings(session, [MappingSpec(source="bench-canvas", course="565", minutes=90,
                                                  credentials=["acmss-cmss", "iacet-ceu"])], rt.rulebook)
        port = free_port()
        env = {**os.environ, "LTI_TOOL_INSTANCE_DIR": str(instance), "LTI_TOOL_CONFIG_DIR": str(ROOT / "config"),
               "LTI_TOOL_SERVER__WORKERS": str(args.workers), "LTI_TOOL_SERVER__THREADS": str(args.threads),
               "LTI_TOOL_LOG_LEVEL": "WARNING"}
        if settings.database_url:
            env["DATABASE_URL"] = settings.database_url
        server = subprocess.Popen([sys.executable, "-m", "lti_tool", "serve", "--port", str(port)], env=env, cwd=ROOT)
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            run_clients(port, [("GET", "/healthz", b"")] * 200, args.clients)  # warm-up
            print(f"database: {rt.engine.dialect.name}; {args.events} requests each, {args.clients} clients, "
                  f"{worker_count(rt.settings) if not args.workers else args.workers} workers x {args.threads} threads")
            base = measure("GET /healthz", server, port, [("GET", "/healthz", b"")] * args.events, args.clients)
            posts = [("POST", source.url, event_body(10_000 + i)) for i in range(args.events)]
            ingest = measure("POST completion event", server, port, posts, args.clients)
            print(f"ratio ingest/trivial: {ingest / base:.2f} (target >= 0.50)")
        finally:
            server.terminate()
            server.wait(timeout=20)
        with rt.sessions() as session:
            awards = session.scalar(select(func.count()).select_from(models.Award))
            events = session.scalar(select(func.count()).select_from(models.LmsEvent))
        print(f"stored events: {events}; awards: {awards} (expected {2 * args.events})")
        rt.engine.dispose()


if __name__ == "__main__":
    main()
