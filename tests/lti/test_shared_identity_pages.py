"""A platform linked through a source that shares another's identities (an xAPI feed of the same
Moodle) sees the same learners, mappings and credit on every page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from lti_tool.db import write_session
from lti_tool.lti.keys import ensure_key
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.pages import CREDENTIAL, complete, csrf_token, mapping_form
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR, TestPlatform


@pytest.fixture
def through_feed(client: FlaskClient, cli_json: Callable[..., Any], runtime: Runtime,
                 source: dict[str, Any]) -> Iterator[Launcher]:
    cli_json("sources", "add", "--kind", "xapi", "--name", "lrs", "--same-identities-as", "moodle-1")
    platform = TestPlatform().start()
    with write_session(runtime.sessions) as session:
        ensure_key(session)
    cli_json(*platform.cli_args(source="lrs"))
    yield Launcher(client, platform)
    platform.stop()


def open_as(launch: Launcher, **claims: Any) -> None:
    assert launch(launch.platform.claims(**claims)).status_code == 303


def test_mapping_learner_and_instructor_pages_use_the_identity_source(
    through_feed: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")
    open_as(through_feed, sub="99", roles=ADMINISTRATOR)
    token = csrf_token(through_feed.client, "/lti/mapping")
    saved = through_feed.client.post("/lti/mapping", data=mapping_form(token)).get_data(as_text=True)
    assert "1 award(s) made" in saved
    open_as(through_feed, sub="42")
    learner = through_feed.client.get("/lti/learner").get_data(as_text=True)
    assert CREDENTIAL in learner and "0.2" in learner
    open_as(through_feed, sub="7", roles=INSTRUCTOR)
    roster = through_feed.client.get("/lti/course").get_data(as_text=True)
    assert "Ada Lovelace" in roster
