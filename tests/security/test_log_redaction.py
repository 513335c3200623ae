"""An event URL's token is a credential: log lines name the source, never the token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from lti_tool.runtime import Runtime
from lti_tool.web import events
from lti_tool.web.app import create_app


@pytest.fixture
def moodle(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return dict(cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod"))


def token_of(source: dict[str, Any]) -> str:
    return str(source["url"]).rstrip("/").rsplit("/", 1)[1]


def test_a_413_and_a_405_log_the_source_name_not_the_token(
    runtime: Runtime, moodle: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client = create_app(runtime, {"TESTING": True}).test_client()
    with caplog.at_level(logging.WARNING):
        too_big = client.post(moodle["url"], data=b"x" * (runtime.settings.events.max_body_bytes + 1),
                              headers={"Content-Type": "application/json"})
        wrong_method = client.get(moodle["url"])
    assert (too_big.status_code, wrong_method.status_code) == (413, 405)
    logged = caplog.text
    assert token_of(moodle) not in logged and "<moodle-prod>" in logged


def test_an_unexpected_error_logs_the_source_name_not_the_token(
    runtime: Runtime, moodle: dict[str, Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(raw: bytes) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(events, "parse_moodle", broken)
    client = create_app(runtime, {}).test_client()  # not TESTING: the error is logged, not raised
    with caplog.at_level(logging.ERROR):
        response = client.post(moodle["url"], data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 500
    assert "Exception on /events/moodle/<moodle-prod> [POST]" in caplog.text
    assert token_of(moodle) not in caplog.text
