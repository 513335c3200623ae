"""One way to name a learner (:class:`LearnerKey`), one resolver from a source to its identity, one
function that creates learners."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.learners import (
    LearnerError,
    LearnerKey,
    SeenLearner,
    find_learner,
    identity_of,
    learner_key,
    record_learners,
)


@pytest.fixture
def sources(cli_json: Callable[..., Any]) -> tuple[int, int]:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")
    feed = cli_json("sources", "add", "--kind", "xapi", "--name", "lrs", "--same-identities-as", "canvas-prod")
    return canvas["id"], feed["id"]


def test_a_sharing_source_resolves_to_the_source_it_shares(runtime: Runtime, sources: tuple[int, int]) -> None:
    canvas, feed = sources
    with read_session(runtime.sessions) as session:
        assert identity_of(session, feed) == identity_of(session, canvas) == canvas
        assert learner_key(session, feed, "7") == LearnerKey(canvas, "7")


def test_an_unknown_source_is_refused_by_name(runtime: Runtime) -> None:
    with read_session(runtime.sessions) as session, pytest.raises(LearnerError, match="no source with id 404"):
        identity_of(session, 404)


def test_record_learners_creates_once_and_keeps_what_a_later_sighting_does_not_say(
    runtime: Runtime, sources: tuple[int, int]
) -> None:
    canvas, _ = sources
    key = LearnerKey(canvas, "7")
    with write_session(runtime.sessions) as session:
        first, again = record_learners(session, [SeenLearner(key, "Ada", "ada@example.org"), SeenLearner(key)])
    with write_session(runtime.sessions) as session:
        [later] = record_learners(session, [SeenLearner(key, name="Ada Lovelace")])
        learner = find_learner(session, key)
        assert learner is not None
        assert first == again == later == learner.id
        assert (learner.name, learner.email) == ("Ada Lovelace", "ada@example.org")
