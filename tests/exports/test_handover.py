"""The tick records a batch sent and leases the next in one transaction (on PostgreSQL one
statement): an accepted batch is recorded delivered with its receipt, and the next batch's lease
counts its attempt, adds the attempt's row and marks an attempt cut short by a killed process
``interrupted``, exactly as the statements run one by one do."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services import exporting
from lti_tool.services.export_batching import form_batches
from lti_tool.services.export_lease import lease
from tests.exports.ledger_rows import credit
from tests.exports.test_batches import configure


def test_the_batch_after_a_delivered_one_is_leased_anew_and_its_killed_attempt_marked_interrupted(
    runtime: Runtime, tmp_path: Path
) -> None:
    configure(runtime, tmp_path, '[delivery]\nmax_claims_per_batch = 1\n[defaults]\nrequires = []\n'
                                 'exporter = "claims-csv"\n')
    for user in "ab":
        credit(runtime.sessions, user, "565")
    now = models.utcnow()
    with write_session(runtime.sessions) as session:
        first, second = form_batches(session, now, runtime.exports)
    assert lease(runtime.sessions, second, now, 60) == 1  # a process that was killed while sending it

    later = now + timedelta(seconds=61)
    report = exporting.run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, later)

    assert [(d["batch"], d["attempt"]) for d in report.delivered] == [(first, 1), (second, 2)]
    assert report.failed == []
    with write_session(runtime.sessions) as session:
        attempts = session.execute(select(models.ExportAttempt.batch_id, models.ExportAttempt.attempt,
                                          models.ExportAttempt.outcome, models.ExportAttempt.receipt)
                                   .order_by(models.ExportAttempt.batch_id, models.ExportAttempt.attempt)).all()
        batches = session.scalars(select(models.ExportBatch).order_by(models.ExportBatch.id)).all()
    assert [(a.batch_id, a.attempt, a.outcome) for a in attempts] == [
        (first, 1, "delivered"), (second, 1, "interrupted"), (second, 2, "delivered")]
    files = {d["batch"]: d["file"] for d in report.delivered}
    assert [a.receipt["path"] for a in attempts if a.outcome == "delivered"] == [files[first], files[second]]
    assert [(b.id, b.status, b.attempts, b.lease_until) for b in batches] == [
        (first, "delivered", 1, None), (second, "delivered", 2, None)]
    assert [b.receipt["path"] for b in batches] == [files[first], files[second]]


def test_a_batch_sent_before_a_failed_handover_is_still_recorded_and_not_sent_again(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction that records a batch sent and leases the next one fails (a lost connection,
    a deadlock): the tick fails, but the batch the receiver accepted is recorded delivered on its
    way out, not left leased to be sent again once its lease runs out."""
    configure(runtime, tmp_path, '[delivery]\nmax_claims_per_batch = 1\n[defaults]\nrequires = []\n'
                                 'exporter = "claims-csv"\n')
    for user in "ab":
        credit(runtime.sessions, user, "565")
    real = exporting.record_and_take
    calls: list[int] = []

    def failing_once(session: Any, sent: Any, batch_id: int, *args: Any) -> Any:
        calls.append(batch_id)
        if len(calls) == 2:
            raise OperationalError("UPDATE export_batches", {}, Exception("connection lost"))
        return real(session, sent, batch_id, *args)

    monkeypatch.setattr(exporting, "record_and_take", failing_once)
    now = models.utcnow()
    with pytest.raises(OperationalError):
        exporting.run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, now)
    monkeypatch.setattr(exporting, "record_and_take", real)
    first, second = calls

    # The lease of the batch that failed to be recorded would have run out by now.
    later = now + timedelta(seconds=runtime.settings.exports.lease_seconds + 1)
    report = exporting.run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, later)

    assert [(d["batch"], d["attempt"]) for d in report.delivered] == [(second, 1)]
    with read_session(runtime.sessions) as session:
        attempts = session.execute(select(models.ExportAttempt.batch_id, models.ExportAttempt.attempt,
                                          models.ExportAttempt.outcome)
                                   .order_by(models.ExportAttempt.batch_id, models.ExportAttempt.attempt)).all()
        batches = session.execute(select(models.ExportBatch.id, models.ExportBatch.status,
                                         models.ExportBatch.lease_until).order_by(models.ExportBatch.id)).all()
    assert [tuple(a) for a in attempts] == [(first, 1, "delivered"), (second, 1, "delivered")]
    assert [tuple(b) for b in batches] == [(first, "delivered", None), (second, "delivered", None)]


def test_a_delivery_is_logged_once_after_its_record_commits_and_a_failing_record_hides_no_error(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The handover that records the first batch fails before its commit; recording it on the way out fails too
    (the database is gone): the tick raises the handover's error, logs the second, and logs no
    delivery, since none was recorded."""
    configure(runtime, tmp_path, '[delivery]\nmax_claims_per_batch = 1\n[defaults]\nrequires = []\n'
                                 'exporter = "claims-csv"\n')
    for user in "ab":
        credit(runtime.sessions, user, "565")
    real = exporting.record_and_take

    def failing_after_the_first(session: Any, sent: Any, batch_id: int, *args: Any) -> Any:
        taken = real(session, sent, batch_id, *args)
        if sent is not None:  # the statements ran; the commit will not
            raise OperationalError("COMMIT", {}, Exception("connection lost"))
        return taken

    def record_fails(self: exporting.Courier) -> None:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(exporting, "record_and_take", failing_after_the_first)
    monkeypatch.setattr(exporting.Courier, "record_last", record_fails)
    caplog.set_level(logging.INFO)
    with pytest.raises(OperationalError):
        exporting.run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "export tick: the batch sent last could not be recorded either"]
    assert not [r for r in caplog.records if "claim(s) to" in r.getMessage()]

    monkeypatch.undo()
    caplog.clear()
    later = models.utcnow() + timedelta(seconds=runtime.settings.exports.lease_seconds + 1)
    report = exporting.run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, later)
    delivered = [r.getMessage() for r in caplog.records if "claim(s) to" in r.getMessage()]
    assert len(delivered) == len(report.delivered) == 2, delivered
