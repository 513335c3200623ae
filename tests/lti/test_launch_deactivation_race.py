"""A platform deactivated while a launch is being written: the launch's status read and its inserts
are one atomic step, on SQLite and PostgreSQL. Either the deactivation commits first and the launch
is refused (a 403, never a 500, nothing stored), or the launch commits first and the deactivation
after it; never a launch recorded for a platform that was no longer active when it committed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from lti_tool.db import make_engine, read_session
from lti_tool.lti import launch_record
from lti_tool.lti.launch import Launch
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher, login, stored_counts
from tests.lti.test_launch_batches import prepared, record


@pytest.fixture
def other_engine(database_url: str) -> Iterator[Engine]:
    """A second engine on the same database: another process's connection (on SQLite, one that
    gives up at once when another transaction holds the write lock)."""
    engine = make_engine(database_url, sqlite_busy_timeout_ms=0)
    yield engine
    engine.dispose()


def _deactivate(connection: Connection, platform_id: int, *, wait: bool) -> None:
    """The operator's deactivation, as an ``UPDATE`` of the platform's status; ``wait=False``: give
    up (``OperationalError``) rather than wait for a lock another transaction holds."""
    if not wait and connection.dialect.name == "postgresql":
        connection.execute(text("SELECT id FROM lti_platforms WHERE id = :id FOR NO KEY UPDATE NOWAIT"),
                           {"id": platform_id})
    connection.execute(text("UPDATE lti_platforms SET status = 'pending' WHERE id = :id"), {"id": platform_id})


def _status(runtime: Runtime) -> str:
    with read_session(runtime.sessions) as session:
        return str(session.scalar(text("SELECT status FROM lti_platforms")))


def test_a_deactivation_cannot_commit_between_the_status_read_and_the_launch_s_writes(
        runtime: Runtime, registered: Any, other_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    launch = prepared(runtime, registered, sub="ada")
    committed_between: list[bool] = []
    real = launch_record.platform_statuses

    def then_deactivate(connection: Connection, platform_ids: list[int]) -> Any:
        statuses = real(connection, platform_ids)
        try:
            with other_engine.begin() as other:
                _deactivate(other, launch.platform_id, wait=False)
        except OperationalError:  # the launch's transaction holds the platform: the deactivation waits
            committed_between.append(False)
        else:
            committed_between.append(True)
        return statuses

    monkeypatch.setattr(launch_record, "platform_statuses", then_deactivate)
    before = stored_counts(runtime)
    [done] = record(runtime, [launch])
    assert committed_between == [False], "a deactivation committed between the launch's status read and its writes"
    assert isinstance(done, Launch), done
    with other_engine.begin() as other:  # once the launch has committed, the deactivation goes through
        _deactivate(other, launch.platform_id, wait=False)
    assert _status(runtime) == "pending"
    assert stored_counts(runtime)["lti_launch_sessions"] == before["lti_launch_sessions"] + 1


def _wait_until_blocked(other_engine: Engine, done: threading.Event) -> None:
    """Until the launch's transaction waits for a lock (PostgreSQL's own view of it), or has ended."""
    with other_engine.connect() as watcher:
        while not done.is_set():
            waiting = watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar()
            watcher.rollback()
            if waiting:
                return
            done.wait(0.01)


def test_a_launch_written_while_its_platform_is_being_deactivated_is_refused_with_a_403(
        runtime: Runtime, launch: Launcher, other_engine: Engine, is_postgres: bool) -> None:
    """The deactivation's transaction has updated the platform but not committed when the launch
    writes; the launch waits for it and then reads the platform it left: refused, nothing stored."""
    before = stored_counts(runtime)
    with read_session(runtime.sessions) as session:
        platform_id = int(session.scalar(text("SELECT id FROM lti_platforms")) or 0)
    auth = login(launch.client, launch.platform)
    body = launch.platform.claims()
    body["nonce"] = auth["nonce"]
    form = {"id_token": launch.platform.sign(body), "state": auth["state"]}
    answers: list[TestResponse | BaseException] = []
    finished = threading.Event()

    def post_launch() -> None:
        try:
            answers.append(launch.client.post("/lti/launch", data=form))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            answers.append(exc)
        finally:
            finished.set()

    other = other_engine.connect()
    try:
        other.begin()
        _deactivate(other, platform_id, wait=True)  # on SQLite this holds the write lock
        launching = threading.Thread(target=post_launch)
        launching.start()
        if is_postgres:  # commit only once the launch's write waits for the platform's row
            _wait_until_blocked(other_engine, finished)
        other.commit()
    finally:
        other.close()
    launching.join(60)
    [answer] = answers
    assert isinstance(answer, TestResponse), answer
    assert answer.status_code == 403, answer.get_data(as_text=True)
    assert "not registered" in answer.get_data(as_text=True)
    after = stored_counts(runtime)
    assert after["lti_launch_sessions"] == before["lti_launch_sessions"]
    assert after["lti_used_nonces"] == before["lti_used_nonces"]
    assert after["learners"] == before["learners"]
