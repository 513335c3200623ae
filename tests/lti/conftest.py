"""Fixtures for LTI tests: a running test platform registered with the tool, and a launcher that
goes through the real OIDC login and launch endpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.lti.keys import ensure_key
from lti_tool.runtime import Runtime
from tests.lti.platform import TestPlatform

STORED = (models.LaunchSession, models.UsedNonce, models.Learner, models.AuditEntry)


@pytest.fixture
def platform() -> Iterator[TestPlatform]:
    p = TestPlatform().start()
    yield p
    p.stop()


@pytest.fixture
def source(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-1")


@pytest.fixture
def registered(platform: TestPlatform, source: dict[str, Any], cli_json: Callable[..., Any],
               runtime: Runtime) -> TestPlatform:
    with write_session(runtime.sessions) as session:
        ensure_key(session)
    cli_json(*platform.cli_args(source="moodle-1"))
    return platform


def login(client: FlaskClient, platform: TestPlatform, **params: str) -> dict[str, str]:
    """The OIDC login step; returns the query the tool sent to the platform's auth URL."""
    query = {"iss": platform.issuer, "login_hint": "u", "client_id": platform.client_id,
             "target_link_uri": "http://localhost/lti/launch", **params}
    response = client.get("/lti/login", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}


@dataclass
class Launcher:
    client: FlaskClient
    platform: TestPlatform

    def __call__(self, body: dict[str, Any] | None = None, *, token: str | None = None,
                 state: str | None = None, **sign: Any) -> TestResponse:
        auth = login(self.client, self.platform)
        if token is None:
            body = self.platform.claims() if body is None else body
            if body.get("nonce") is not None:
                body["nonce"] = auth["nonce"]
            token = self.platform.sign(body, **sign)
        return self.client.post("/lti/launch", data={"id_token": token, "state": state or auth["state"]})


@pytest.fixture
def launch(client: FlaskClient, registered: TestPlatform) -> Launcher:
    return Launcher(client, registered)


@pytest.fixture
def other_platform(cli_json: Callable[..., Any]) -> Iterator[TestPlatform]:
    """A second LMS registered with the tool, with its own event source ``moodle-2``."""
    p = TestPlatform(client_id="tool-client-2", deployment_id="deployment-b").start()
    cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-2")
    cli_json(*p.cli_args(source="moodle-2"))
    yield p
    p.stop()


def stored_counts(runtime: Runtime) -> dict[str, int]:
    with read_session(runtime.sessions) as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in STORED}
