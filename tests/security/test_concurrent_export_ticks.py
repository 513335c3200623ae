"""Two export ticks at once (the scheduler and ``lti-tool export run``) deliver every batch once,
with a lease shorter than the tick and shorter than one delivery."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.exports.claim import Rendered
from lti_tool.exports.directory import deliver_to_directory
from lti_tool.runtime import Runtime
from lti_tool.services.export_batching import due_batches, form_batches
from lti_tool.services.export_lease import lease
from lti_tool.services.exporting import run_export_tick
from lti_tool.settings import ExportSettings
from tests.exports.ledger_rows import credit
from tests.exports.receivers import HttpReceiver, http_server
from tests.exports.test_delivery import configure

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class SlowReceiver(HttpReceiver):
    """Takes ``delay`` seconds before it answers each POST."""

    def __init__(self, delay: float) -> None:
        super().__init__(SECRET)
        self.delay = delay

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        time.sleep(self.delay)
        super().answer(handler)


def exports_toml(url: str, per_batch: int) -> str:
    return f"""
[delivery]
max_claims_per_batch = {per_batch}
[defaults]
destination = "body-api"
exporter = "claims-csv"
[destinations.body-api]
type = "https"
url = "{url}"
secret_env = "TEST_WEBHOOK_SECRET"
timeout_seconds = 10
"""


def run_two_ticks(runtime: Runtime, gap: float) -> None:
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    first, second = threading.Thread(target=tick), threading.Thread(target=tick)
    first.start()
    time.sleep(gap)
    second.start()
    first.join(60)
    second.join(60)
    assert not first.is_alive() and not second.is_alive()  # neither hangs
    assert errors == []


def delivered_attempts(runtime: Runtime) -> Counter[int]:
    with runtime.sessions() as session:
        return Counter(session.scalars(select(models.ExportAttempt.batch_id).where(
            models.ExportAttempt.outcome == "delivered")))


def test_a_second_tick_during_a_long_tick_takes_no_batch_the_first_one_holds(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    runtime.settings.exports = ExportSettings(lease_seconds=1.0)
    receiver = SlowReceiver(delay=0.08)
    for user in range(30):
        credit(runtime.sessions, str(user), "565", credential="aama-cma", number=f"AAMA-{user}")
    with http_server(receiver) as url:
        configure(runtime, tmp_path, exports_toml(url, per_batch=1))
        run_two_ticks(runtime, gap=1.4)  # the first tick needs > 2.4 s; its later leases are fresh
    attempts = delivered_attempts(runtime)
    assert len(attempts) == 30 and set(attempts.values()) == {1}
    assert receiver.duplicates == [] and len(receiver.requests) == 30


def test_a_delivery_longer_than_its_lease_keeps_it_and_is_not_delivered_again(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    # Margins of seconds, not tenths: on a loaded CI machine a renewal can wait a few tenths for a
    # core, and a 0.3 s lease was lost that way (a test of renewal, not of the scheduler's latency).
    runtime.settings.exports = ExportSettings(lease_seconds=2.0)
    receiver = SlowReceiver(delay=5.0)  # two and a half leases long: the lease is renewed meanwhile
    credit(runtime.sessions, "123", "565", credential="aama-cma", number="AAMA-1")
    with http_server(receiver) as url:
        configure(runtime, tmp_path, exports_toml(url, per_batch=1))
        run_two_ticks(runtime, gap=2.5)  # after the first lease would have run out unrenewed
    assert list(delivered_attempts(runtime).values()) == [1]
    assert len(receiver.requests) == 1
    with runtime.sessions() as session:
        [batch] = session.scalars(select(models.ExportBatch)).all()
    assert batch.status == "delivered" and batch.attempts == 1


def test_two_writers_of_one_file_never_share_a_temporary_name(tmp_path: Path) -> None:
    rendered = Rendered("claims.csv", "text/csv", b"a,b\n" * 200_000)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(5):
                deliver_to_directory(tmp_path, "aama-cma", rendered)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert errors == []
    assert [p.name for p in (tmp_path / "aama-cma").iterdir()] == ["claims.csv"]


def test_a_batch_another_tick_just_failed_is_not_taken_before_its_retry_time(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second tick read its due batches before the first tick recorded a failure of one of them:
    taking it must still wait for its retry time (the backoff, and ``Retry-After``), not follow the
    failure at once because the failure freed the lease."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    runtime.settings.exports = ExportSettings(retry_base_seconds=3600, retry_max_seconds=7200)
    receiver = HttpReceiver(SECRET, ["500"])
    credit(runtime.sessions, "123", "565", credential="aama-cma", number="AAMA-1")
    with http_server(receiver) as url:
        configure(runtime, tmp_path, exports_toml(url, per_batch=1))
        now = models.utcnow()
        with write_session(runtime.sessions) as session:
            form_batches(session, now, runtime.exports)
        with runtime.sessions() as session:
            due_before_the_failure = due_batches(session, now)
        assert run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, now).failed
        [batch_id] = due_before_the_failure
        assert lease(runtime.sessions, batch_id, now + timedelta(seconds=1), 30) is None
    assert len(receiver.requests) == 1
