"""What every benchmark needs: a fresh database, the real server on 127.0.0.1, keep-alive clients,
the server's memory, and the figure lines each benchmark prints last.

Importing it puts this checkout first on ``sys.path``: every bench module imports it (or a module
that does) before ``lti_tool``, so a benchmark measures its own checkout's code, never an
``lti_tool`` installed from another (``tests/test_bench_imports.py``).

Figure lines (one per figure, so a reader and a script can compare runs):

    NAME: VALUE UNIT (ceiling VALUE UNIT, ratio R, target >= T)
    NAME: VALUE UNIT (target < T)
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import inspect, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_tool.runtime import Runtime, build_runtime  # noqa: E402
from lti_tool.schema import upgrade  # noqa: E402
from lti_tool.settings import Settings, load_settings  # noqa: E402

Request = tuple[str, str, bytes, dict[str, str]]
"""method, path, body, headers"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_runtime(tmp: Path, *, exports_path: Path | None = None, **overrides: object) -> Runtime:
    """A runtime on a new, migrated database: SQLite in ``tmp``, or ``DATABASE_URL``, which must
    name an empty database (``BENCH_RESET=1`` empties its public schema first)."""
    settings = load_settings(instance_dir=tmp / "instance", config_dir=ROOT / "config",
                             exports_path=exports_path, **overrides)
    rt = build_runtime(settings)
    if rt.engine.dialect.name == "postgresql":
        if os.environ.get("BENCH_RESET") == "1":
            with rt.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        elif inspect(rt.engine).get_table_names():
            sys.exit(f"{rt.engine.url.render_as_string()} is not empty: the benchmark needs an empty "
                     "database (BENCH_RESET=1 drops its public schema)")
    upgrade(rt.engine)
    return rt


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {**os.environ, "LTI_TOOL_INSTANCE_DIR": str(settings.instance_dir),
           "LTI_TOOL_CONFIG_DIR": str(settings.config_dir), "LTI_TOOL_LOG_LEVEL": "WARNING",
           "DATABASE_URL": settings.effective_database_url,
           # A server on 127.0.0.1 over plain http whose calls (the test platform's keyset) stay on
           # loopback: a development server, as in the tests; never in production.
           "LTI_TOOL_SERVER__DEVELOPMENT": "true", "LTI_TOOL_OUTBOUND__ALLOW_PRIVATE_ADDRESSES": "true", **extra}
    if settings.exports_path:
        env["LTI_TOOL_EXPORTS_PATH"] = str(settings.exports_path)
    return env


@contextmanager
def serve(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``lti-tool serve`` (gunicorn) on a free port of 127.0.0.1, stopped afterwards."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "lti_tool", "serve", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("the server did not start")
            time.sleep(0.1)
        yield server, port
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_closed(port: int, requests_: list[Request], clients: int) -> tuple[float, list[float], int]:
    """Send the requests as fast as answers come, from ``clients`` keep-alive connections;
    return (seconds, latencies, answers that were not 2xx)."""
    return _run(port, requests_, clients, rate=None)


def run_open(port: int, requests_: list[Request], clients: int, rate: float) -> tuple[float, list[float], int]:
    """Offer the requests at ``rate`` per second in all, spread over ``clients`` keep-alive
    connections. Latency runs from when a request was due, not when it was sent, so a server that
    falls behind is charged for the queue it causes (no coordinated omission)."""
    return _run(port, requests_, clients, rate=rate)


def _run(port: int, requests_: list[Request], clients: int, rate: float | None) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    began = time.perf_counter() + 0.05

    def worker(index: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        bad = 0
        for n in range(index, len(requests_), clients):
            method, path, body, headers = requests_[n]
            due = began + n / rate if rate else time.perf_counter()
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - due)
            if response.status >= 300:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began, latencies, errors


def quantile(values: list[float], q: int) -> float:
    """The ``q``-th percentile."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _tree(pid: int) -> list[int]:
    try:
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [pid] + [p for child in children for p in _tree(child)]


class MemoryPeak:
    """The peak memory of a process and its descendants, sampled every ``interval`` seconds while
    the ``with`` block runs: ``pss_mb``, the proportional set size summed over the tree (a page
    shared by the gunicorn master and its forked workers is counted once, split between them),
    and ``rss_mb``, resident memory summed over the tree (shared pages counted in every process)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.pss_mb = self.rss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._measure()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._measure()

    def _measure(self) -> None:
        pss = rss = 0
        for p in _tree(self.pid):
            try:
                pss += _field_kb(Path(f"/proc/{p}/smaps_rollup"), "Pss:")
                rss += _field_kb(Path(f"/proc/{p}/status"), "VmRSS:")
            except (FileNotFoundError, ProcessLookupError):
                pass
        self.pss_mb = max(self.pss_mb, pss / 1024)
        self.rss_mb = max(self.rss_mb, rss / 1024)


def _field_kb(path: Path, name: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(name):
            return int(line.split()[1])
    return 0


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants."""
    return sum(_cpu_seconds(p) or 0.0 for p in _tree(pid))


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user and system) used so far by one process; ``None`` if it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PostgresCpu:
    """CPU seconds used by every PostgreSQL process on this machine (its backends, and the WAL
    writer and the other helpers that write for them) while the ``with`` block runs: the
    database's share of a request's cost when the benchmark's database is the only one at work.
    A process that ends within the block is not counted; one that starts is counted whole."""

    def __enter__(self) -> PostgresCpu:
        self._before = _postgres_cpu()
        self.seconds = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        after = _postgres_cpu()
        self.seconds = sum(cpu - self._before.get(pid, 0.0) for pid, cpu in after.items())


def _postgres_cpu() -> dict[int, float]:
    found: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or (proc / "comm").read_text().strip() != "postgres":
                continue
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        seconds = _cpu_seconds(int(proc.name))
        if seconds is not None:
            found[int(proc.name)] = seconds
    return found


class CpuBusy:
    """How many of the machine's cores were busy (every process on it, not only the benchmark's)
    between its creation and :meth:`cores`, from ``/proc/stat``."""

    def __init__(self) -> None:
        self._busy, self._total = _cpu_ticks()

    def cores(self) -> float:
        busy, total = _cpu_ticks()
        return (busy - self._busy) / max(total - self._total, 1) * (os.cpu_count() or 1)


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all cores: idle and iowait count as not busy."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])  # guest time is already in user time
    return total - fields[3] - fields[4], total


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def ratio_line(name: str, value: float, unit: str, ceiling: float, target: float) -> str:
    return (f"{name}: {value:.1f} {unit} (ceiling {ceiling:.1f} {unit}, ratio {value / ceiling:.2f}, "
            f"target >= {target:g})")


def absolute_line(name: str, value: float, unit: str, target: float) -> str:
    return f"{name}: {value:.1f} {unit} (target < {target:g})"


def check(what: str, found: int, expected: int) -> None:
    """Stop with an error when the work was not done: a fast wrong run must not pass."""
    print(f"check {what}: {found} (expected {expected})")
    if found != expected:
        sys.exit(f"FAILED: {what} is {found}, expected {expected}")
