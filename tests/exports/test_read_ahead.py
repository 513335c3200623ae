"""The tick reads and renders the next batch while the last one is sent, before leasing it: a batch
that changed in between is read again under its lease, one another tick took is not sent."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services import exporting
from lti_tool.services.export_batching import batch_key
from lti_tool.services.export_lease import lease
from tests.exports.ledger_rows import credit
from tests.exports.test_batches import configure


def after_reading_ahead(monkeypatch: pytest.MonkeyPatch, then: Callable[[int], None]) -> list[int]:
    """Run ``then(batch_id)`` right after the tick has read a batch ahead; returns those batch ids."""
    read = []
    real = exporting.prepare

    def prepare(sessions: Any, exports: Any, batch: Any) -> Any:
        prepared = real(sessions, exports, batch)
        read.append(batch.id)
        then(batch.id)
        return prepared

    monkeypatch.setattr(exporting, "prepare", prepare)
    return read


def claim_keys(path: str) -> list[str]:
    with open(path, newline="") as handle:
        return [row["claim_key"] for row in csv.DictReader(handle)]


@pytest.fixture
def three_batches(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, '[delivery]\nmax_claims_per_batch = 2\n[defaults]\nrequires = []\n'
                                 'exporter = "claims-csv"\n')
    for user in "abcdef":
        credit(runtime.sessions, user, "565")


def test_a_batch_that_changed_after_it_was_read_ahead_is_sent_as_it_is_now(
    runtime: Runtime, three_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def set_one_claim_aside(batch_id: int) -> None:  # what the holder of a lease on it may do
        with write_session(runtime.sessions) as session:
            claims = session.scalars(select(models.OutboxClaim).where(models.OutboxClaim.batch_id == batch_id)
                                     .order_by(models.OutboxClaim.id)).all()
            if len(claims) < 2:
                return
            batch = session.get(models.ExportBatch, batch_id)
            assert batch is not None
            dead = models.ExportBatch(credential=batch.credential, destination=batch.destination,
                                      exporter=batch.exporter, key=batch_key([claims[0].idempotency_key]),
                                      status=models.BatchStatus.DEAD, attempts=0, created_at=batch.created_at)
            session.add(dead)
            session.flush()
            claims[0].batch_id = dead.id
            batch.key = batch_key([c.idempotency_key for c in claims[1:]])

    read = after_reading_ahead(monkeypatch, set_one_claim_aside)
    report = exporting.run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert len(read) == 2 and [d["batch"] for d in report.delivered][1:] == read
    with write_session(runtime.sessions) as session:
        for delivered in report.delivered[1:]:
            batch = session.get(models.ExportBatch, delivered["batch"])
            assert batch is not None and batch.key[:16] in delivered["file"]
            now_in_batch = session.scalars(select(models.OutboxClaim.idempotency_key).where(
                models.OutboxClaim.batch_id == batch.id)).all()
            assert claim_keys(delivered["file"]) == list(now_in_batch) and len(now_in_batch) == 1


def test_a_batch_read_ahead_that_another_tick_leased_meanwhile_is_not_sent(
    runtime: Runtime, three_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[int] = []

    def another_tick_takes_it(batch_id: int) -> None:
        if not taken:
            assert lease(runtime.sessions, batch_id, models.utcnow(), 300) == 1
            taken.append(batch_id)

    read = after_reading_ahead(monkeypatch, another_tick_takes_it)
    report = exporting.run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert taken == read[:1]
    delivered = [d["batch"] for d in report.delivered]
    assert len(delivered) == 2 and taken[0] not in delivered and report.failed == []
    files = list((runtime.settings.instance_dir / "exports").rglob("*.csv"))
    assert sorted(str(f) for f in files) == sorted(d["file"] for d in report.delivered)
