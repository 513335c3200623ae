"""Launch benchmark: LTI 1.3 OIDC login + launch per second against a test platform, next to a bare
PyJWT RS256 decode of the same id_tokens.

Starts the tests' LTI test platform (a real RSA key, its JWKS served over HTTP on 127.0.0.1), a fresh
database (SQLite in a temporary folder, or ``DATABASE_URL``, which must name an empty database) with
the platform registered, and ``lti-tool serve`` on 127.0.0.1. ``--clients`` browsers launch
``--launches`` times in all, each launch as a new user: ``GET /lti/login`` (a signed state and its
nonce, state cookie set), then ``POST /lti/launch`` with the state cookie and an id_token the
platform signed for that nonce (signature, claims, state and nonce checked, nonce consumed, launch
session opened). A launch's time is the browser's wait for both answers (not the platform's
signing). Each browser is a process of its own with one keep-alive connection
(:class:`launching.LaunchingBrowser`, plain ``http.client``): the browsers share the server's two
cores, and eight ``requests`` sessions in one interpreter spent about 5 ms of CPU a launch and queued
for that interpreter's lock, which the measured wait included. The ceiling decodes the same
id_tokens with ``jwt.decode`` (RS256 signature, expiry and audience), from as many threads.
Then ``--alone`` launches from a single browser, one after the other, for the latency of a launch
that does not queue behind others. It prints where the CPU went while the browsers launched at once:
the server's per launch (and how much of its one core it used), the browsers' per launch, and how
many of the machine's cores were busy. Afterwards it checks that every launch opened one session and
consumed one nonce.
Target: launch p99 < 100 ms; the ratio is reported.

    .venv/bin/python bench/launch.py [--launches 600] [--clients 8] [--alone 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from harness import (
    CpuBusy,
    absolute_line,
    check,
    fresh_runtime,
    load_average,
    quantile,
    serve,
    server_env,
    tree_cpu_seconds,
)
from launching import LEARNER, LaunchingBrowser, TestPlatform, register
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.services.sources import add_source


@dataclass
class Run:
    """What ``clients`` browsers measured: wall seconds from the first launch's start to the last
    one's answer, each launch's wait, its id_token, and the browsers' own CPU seconds."""

    seconds: float
    latencies: list[float]
    tokens: list[str]
    cpu_seconds: float


def _browser(base: str, platform: TestPlatform, sub_numbers: list[int], go: Any, out: Any) -> None:
    """One browser (a process of its own): launches as each user in turn, then sends back
    (started, finished, [(seconds, id_token)], CPU seconds)."""
    browser = LaunchingBrowser(base, platform)
    mine: list[tuple[float, str]] = []
    go.wait()
    cpu = time.process_time()
    started = time.perf_counter()  # CLOCK_MONOTONIC: the same clock in every process
    for n in sub_numbers:
        mine.append(browser.launch(sub=f"user-{n}", roles=LEARNER))
    out.send((started, time.perf_counter(), mine, time.process_time() - cpu))
    out.close()


def launches(base: str, platform: TestPlatform, count: int, clients: int, first: int) -> Run:
    """``count`` launches of new users from ``clients`` browsers, each browser a process of its own
    (forked, so it holds the platform's key to sign with), so that browsers do not queue for one
    interpreter lock: a launch's time is its browser's wait for the server's two answers."""
    context = multiprocessing.get_context("fork")
    go = context.Event()
    pipes, processes = [], []
    for index in range(clients):
        receive, send = context.Pipe(duplex=False)
        numbers = [first + n for n in range(index, count, clients)]
        process = context.Process(target=_browser, args=(base, platform, numbers, go, send), daemon=True)
        process.start()
        send.close()
        pipes.append(receive)
        processes.append(process)
    go.set()
    try:
        results = [pipe.recv() for pipe in pipes]
    except EOFError:
        sys.exit("FAILED: a browser stopped before it finished its launches")
    for process in processes:
        process.join()
        if process.exitcode != 0:
            sys.exit(f"FAILED: a browser process ended with {process.exitcode}")
    began = min(r[0] for r in results)
    ended = max(r[1] for r in results)
    done = [launched for r in results for launched in r[2]]
    return Run(ended - began, [s for s, _ in done], [t for _, t in done], sum(r[3] for r in results))


def decodes(platform: TestPlatform, tokens: list[str], clients: int) -> float:
    """The same id_tokens decoded and verified by PyJWT alone, from ``clients`` threads; per second."""
    key = platform.key.public_key()

    def decode(index: int) -> None:
        for token in tokens[index::clients]:
            jwt.decode(token, key, algorithms=["RS256"], audience=platform.client_id)

    threads = [threading.Thread(target=decode, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(tokens) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--alone", type=int, default=100, help="launches from one browser, one after the other")
    args = parser.parse_args()

    platform = TestPlatform().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt = fresh_runtime(Path(tmp), log_level="WARNING")
            with write_session(rt.sessions) as session:
                add_source(session, kind="moodle", name="bench-moodle")
            register(rt, platform, "bench-moodle")
            print(f"database: {rt.engine.dialect.name}; {args.launches} launches from {args.clients} browsers; "
                  f"{load_average()}")
            with serve(server_env(rt.settings)) as (server, port):
                base = f"http://127.0.0.1:{port}"
                warm = 20
                launches(base, platform, warm, args.clients, first=0)  # JWKS fetched, connections open
                server_cpu, busy = tree_cpu_seconds(server.pid), CpuBusy()
                run = launches(base, platform, args.launches, args.clients, first=warm)
                server_cpu, busy_cores = tree_cpu_seconds(server.pid) - server_cpu, busy.cores()
                alone = launches(base, platform, args.alone, 1, first=warm + args.launches)
            rate = args.launches / run.seconds
            latencies = run.latencies
            ceiling = max(decodes(platform, run.tokens, args.clients) for _ in range(2))
            print(f"launches: {rate:.1f}/s, p50 {quantile(latencies, 50) * 1000:.2f} ms, "
                  f"p99 {quantile(latencies, 99) * 1000:.2f} ms; one browser alone: "
                  f"p50 {quantile(alone.latencies, 50) * 1000:.2f} ms, "
                  f"p99 {quantile(alone.latencies, 99) * 1000:.2f} ms; PyJWT decode: {ceiling:.1f}/s; {load_average()}")
            per_launch = 1000 / args.launches
            print(f"CPU per launch with {args.clients} at once: server {server_cpu * per_launch:.2f} ms "
                  f"({server_cpu / run.seconds:.0%} of a core), browsers {run.cpu_seconds * per_launch:.2f} ms "
                  f"(signing, HTTP); the machine's cores busy (every process on it): {busy_cores:.2f} of "
                  f"{os.cpu_count()}")
            with rt.sessions() as session:
                check("launch sessions opened", session.scalar(
                    select(func.count()).select_from(models.LaunchSession)) or 0, warm + args.launches + args.alone)
                check("nonces consumed", session.scalar(
                    select(func.count()).select_from(models.UsedNonce)) or 0, warm + args.launches + args.alone)
            rt.engine.dispose()
    finally:
        platform.stop()
    db = rt.engine.dialect.name
    print(f"launches/s ({db}): {rate:.1f} launches/s (ceiling {ceiling:.1f} decodes/s, ratio {rate / ceiling:.2f}, "
          "no target: reported)")
    print(absolute_line(f"launch p99, {args.clients} browsers at once ({db})", quantile(latencies, 99) * 1000, "ms",
                        100))
    print(absolute_line(f"launch p99, one browser ({db})", quantile(alone.latencies, 99) * 1000, "ms", 100))


if __name__ == "__main__":
    main()
