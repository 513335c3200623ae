"""Event sources recognized by URL token, remembered between requests."""

from __future__ import annotations

from sqlalchemy import delete

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.sources import SourceCache, add_source


def _register(runtime: Runtime) -> tuple[int, str]:
    with write_session(runtime.sessions) as session:
        new = add_source(session, kind="canvas", name="canvas-prod")
    return new.id, new.url.rsplit("/", 1)[1]


def _remove_by_hand(runtime: Runtime, source_id: int) -> None:
    with write_session(runtime.sessions) as session:
        session.execute(delete(models.Source).where(models.Source.id == source_id))


def test_a_source_is_found_by_its_token_and_remembered_for_its_time(runtime: Runtime) -> None:
    source_id, token = _register(runtime)
    cache = SourceCache(runtime.sessions, ttl=3600)
    found = cache.find(token)
    assert found is not None and (found.id, found.kind, found.name) == (source_id, "canvas", "canvas-prod")
    assert cache.find("not-a-token") is None
    _remove_by_hand(runtime, source_id)
    assert cache.find(token) == found  # within its time, no read


def test_a_source_removed_by_hand_is_refused_once_its_time_is_up(runtime: Runtime) -> None:
    source_id, token = _register(runtime)
    cache = SourceCache(runtime.sessions, ttl=0)
    assert cache.find(token) is not None
    _remove_by_hand(runtime, source_id)
    assert cache.find(token) is None
