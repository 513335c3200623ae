"""Shared fixtures: a real, migrated database (SQLite, or PostgreSQL when
``LTI_TOOL_TEST_DATABASE_URL`` names one), the runtime, the app, the CLI and the server process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from lti_tool import outbound
from lti_tool.cli.main import cli as lti_cli
from lti_tool.db import make_engine
from lti_tool.models import Base
from lti_tool.runtime import Runtime, build_runtime
from lti_tool.schema import upgrade
from lti_tool.settings import Settings, load_settings
from lti_tool.web.app import create_app

# The tests' peers (platforms, receivers, LMS stand-ins) listen on 127.0.0.1, which the outbound
# address policy refuses by default: the tests run with the development setting, in this process
# and in every process they start. tests/security/ checks the refusal itself with the default policy.
os.environ["LTI_TOOL_OUTBOUND__ALLOW_PRIVATE_ADDRESSES"] = "true"
os.environ["LTI_TOOL_SERVER__DEVELOPMENT"] = "true"  # the served tool runs on 127.0.0.1 without public_url
outbound.configure(outbound.Policy(allow_private=True))

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
DEMO_EXPORTS = REPO / "config" / "exports.demo.toml"
"""The tests export like the demo (claims CSV, no learner field required) unless they say otherwise."""


def required_suites() -> set[str]:
    return {s.strip() for s in os.environ.get("LTI_TOOL_REQUIRE_SUITES", "").split(",") if s.strip()}


def require(suite: str, available: bool, why: str) -> None:
    """Skip when a suite's part is missing here, but fail where CI says the suite is required."""
    if available:
        return
    if suite in required_suites():
        pytest.fail(f"suite {suite!r} is required here but cannot run: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("LTI_TOOL_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    )
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def clean_database(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    clean_database(database_url)
    return load_settings(
        database_url=database_url, instance_dir=tmp_path / "instance", config_dir=REPO / "config",
        exports_path=DEMO_EXPORTS,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime, {"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.effective_database_url,
        "LTI_TOOL_INSTANCE_DIR": str(settings.instance_dir),
        "LTI_TOOL_CONFIG_DIR": str(settings.config_dir),
        "LTI_TOOL_EXPORTS_PATH": str(settings.exports_file),
    }


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Callable[..., Result]:
    """Run ``lti-tool ARGS`` in-process against the test database."""

    def run(*args: str, expect: int | None = 0) -> Result:
        result = CliRunner().invoke(lti_cli, list(args), env=cli_env, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, (result.output, result.stderr if result.stderr_bytes else "")
        return result

    return run


@pytest.fixture
def cli_json(cli: Callable[..., Result]) -> Callable[..., Any]:
    def run(*args: str) -> Any:
        return json.loads(cli(*args, "--json").output)

    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(cli_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The real server process (gunicorn) on 127.0.0.1; yields its base URL."""
    port = free_port()
    log = open(tmp_path / "server.log", "wb")
    env = {**os.environ, **cli_env, "LTI_TOOL_SERVER__WORKERS": "2", "LTI_TOOL_SERVER__THREADS": "4"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lti_tool", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                break
        except requests.RequestException:  # not listening yet, or its workers still booting
            time.sleep(0.1)
        if process.poll() is not None:
            break
    else:
        process.kill()
        pytest.fail("server did not start: " + (tmp_path / "server.log").read_text())
    if process.poll() is not None:
        pytest.fail("server exited: " + (tmp_path / "server.log").read_text())
    yield base
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
