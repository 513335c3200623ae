"""Launch benchmark: LTI 1.3 OIDC login + launch per second against a test platform, next to a bare
PyJWT RS256 decode of the same id_tokens.

Starts the tests' LTI test platform (a real RSA key, its JWKS served over HTTP on 127.0.0.1), a fresh
database (SQLite in a temporary folder, or ``DATABASE_URL``, which must name an empty database) with
the platform registered, and ``lti-tool serve`` on 127.0.0.1. ``--clients`` browsers launch
``--launches`` times in all, each as a new user: ``GET /lti/login`` (a signed state and its nonce, state
cookie set), then ``POST /lti/launch`` with an id_token the platform signed for that nonce (signature,
claims, state and nonce checked, nonce consumed, launch session opened). A launch's time
is the browser's wait for both answers (not the platform's signing). The ceiling decodes the same
id_tokens with ``jwt.decode`` (RS256 signature, expiry and audience), from as many threads.
Then ``--alone`` launches from a single browser, one after the other, for the latency of a launch
that does not queue behind others. Afterwards it checks that every launch opened one session and
consumed one nonce.
Target: launch p99 < 100 ms; the ratio is reported.

    .venv/bin/python bench/launch.py [--launches 600] [--clients 8]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import jwt
import requests
from harness import absolute_line, check, fresh_runtime, load_average, quantile, serve, server_env
from launching import LEARNER, TestPlatform, launch, register
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.services.sources import add_source


def launches(base: str, platform: TestPlatform, count: int, clients: int, first: int) -> tuple[float, list[float],
                                                                                                   list[str]]:
    """``count`` launches of new users from ``clients`` browsers; (seconds, latencies, id_tokens)."""
    latencies: list[float] = []
    tokens: list[str] = []
    lock = threading.Lock()

    def browser(index: int) -> None:
        session = requests.Session()
        mine: list[tuple[float, str]] = []
        for n in range(index, count, clients):
            done = launch(base, platform, sub=f"user-{first + n}", roles=LEARNER, browser=session)
            session.cookies.clear()
            mine.append((done.seconds, done.id_token))
        with lock:
            latencies.extend(s for s, _ in mine)
            tokens.extend(t for _, t in mine)

    threads = [threading.Thread(target=browser, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began, latencies, tokens


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
            with serve(server_env(rt.settings)) as (_, port):
                base = f"http://127.0.0.1:{port}"
                warm = 20
                launches(base, platform, warm, args.clients, first=0)  # JWKS fetched, connections open
                seconds, latencies, tokens = launches(base, platform, args.launches, args.clients, first=warm)
                _, alone, _ = launches(base, platform, args.alone, 1, first=warm + args.launches)
            rate = args.launches / seconds
            ceiling = max(decodes(platform, tokens, args.clients) for _ in range(2))
            print(f"launches: {rate:.1f}/s, p50 {quantile(latencies, 50) * 1000:.2f} ms, "
                  f"p99 {quantile(latencies, 99) * 1000:.2f} ms; one browser alone: "
                  f"p50 {quantile(alone, 50) * 1000:.2f} ms, "
                  f"p99 {quantile(alone, 99) * 1000:.2f} ms; PyJWT decode: {ceiling:.1f}/s; {load_average()}")
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
    print(absolute_line(f"launch p99, one browser ({db})", quantile(alone, 99) * 1000, "ms", 100))


if __name__ == "__main__":
    main()
