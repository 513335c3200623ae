"""Batches: leases are fenced, acceptance always wins, hand retries, splitting, unrenderable ones."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.config import build_exports, rule_defaults
from lti_tool.exports.discovery import discover
from lti_tool.runtime import Runtime
from lti_tool.services.export_batching import form_batches
from lti_tool.services.export_delivery import deliver_batch, lease
from lti_tool.services.export_retries import retry_batch
from lti_tool.services.export_status import export_status
from lti_tool.services.exporting import run_export_tick
from tests.exports.ledger_rows import COMPLETED, credit
from tests.exports.samples import unreachable_mail


def configure(runtime: Runtime, tmp_path: Path, text: str) -> None:
    path = tmp_path / "exports.toml"
    path.write_text(text)
    runtime.exports = build_exports(path, discover(), runtime.settings.instance_dir,
                                    rule_defaults(runtime.rulebook))


def batch(runtime: Runtime, batch_id: int) -> models.ExportBatch:
    with runtime.sessions() as session:
        found = session.get(models.ExportBatch, batch_id)
        assert found is not None
        return found


def test_a_failure_after_the_lease_was_taken_over_does_not_undo_a_delivery(
    runtime: Runtime, tmp_path: Path
) -> None:
    credit(runtime.sessions, "123", "565", number="CMSS-1")
    now = models.utcnow()
    with write_session(runtime.sessions) as session:
        [batch_id] = form_batches(session, now, runtime.exports)
    slow = lease(runtime.sessions, batch_id, now, 60)  # a tick that will hang past its lease
    later = now + timedelta(seconds=61)
    fast = lease(runtime.sessions, batch_id, later, 60)
    assert (slow, fast) == (1, 2)
    delivered = deliver_batch(runtime.sessions, batch_id, fast, runtime.exports, runtime.settings.exports, later)
    assert delivered["delivered"] is True
    # The slow attempt now fails: it no longer holds the lease, so the batch stays delivered.
    configure(runtime, tmp_path, f"""
[defaults]
destination = "mail"
{unreachable_mail()}
""")
    with runtime.sessions() as session:
        session.execute(models.ExportBatch.__table__.update().values(destination="mail"))
        session.commit()
    failed = deliver_batch(runtime.sessions, batch_id, slow, runtime.exports, runtime.settings.exports, later)
    assert failed["delivered"] is False and failed["dead"] is False
    assert batch(runtime, batch_id).status == "delivered"
    with runtime.sessions() as session:
        attempts = session.scalars(select(models.ExportAttempt).order_by(models.ExportAttempt.attempt)).all()
    assert [(a.attempt, a.outcome) for a in attempts] == [(1, "failed"), (2, "delivered")]


def test_a_hand_retry_gives_the_batch_max_attempts_again(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, f"""
[delivery]
max_attempts = 2
[defaults]
destination = "mail"
requires = []
{unreachable_mail()}
""")
    credit(runtime.sessions, "123", "565")
    now = models.utcnow()
    outcomes = [run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports,
                                now + timedelta(days=d)).failed[0]["dead"] for d in range(2)]
    assert outcomes == [False, True]
    [dead] = select_batches(runtime)
    with write_session(runtime.sessions) as session:
        retry_batch(session, dead.id)
    again = [run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports,
                             now + timedelta(days=d)).failed[0] for d in range(2, 4)]
    assert [(f["attempt"], f["dead"]) for f in again] == [(3, False), (4, True)]


def select_batches(runtime: Runtime) -> list[models.ExportBatch]:
    with runtime.sessions() as session:
        return list(session.scalars(select(models.ExportBatch).order_by(models.ExportBatch.id)))


def test_a_backlog_is_split_into_batches_oldest_completion_first(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, '[delivery]\nmax_claims_per_batch = 2\n[defaults]\nrequires = []\n'
                                 'exporter = "claims-csv"\n')
    for day, user in [(3, "c"), (1, "a"), (4, "d"), (2, "b"), (5, "e")]:
        credit(runtime.sessions, user, "565", completed_at=COMPLETED + timedelta(days=day))
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    learners = []
    for delivered in report.delivered:
        with open(delivered["file"], newline="") as handle:
            learners.append([row["learner_id"] for row in csv.DictReader(handle)])
    assert learners == [["a", "b"], ["c", "d"], ["e"]]
    assert len({b.key for b in select_batches(runtime)}) == 3


def test_a_batch_whose_exporter_is_gone_goes_to_the_dead_letter_without_stopping_the_tick(
    runtime: Runtime, tmp_path: Path
) -> None:
    configure(runtime, tmp_path, '[defaults]\nrequires = []\nexporter = "claims-csv"\n')
    credit(runtime.sessions, "123", "1", credential="aama-cma")
    credit(runtime.sessions, "123", "2", credential="amt-rma")
    with write_session(runtime.sessions) as session:
        form_batches(session, models.utcnow(), runtime.exports)
    with runtime.sessions() as session:
        session.execute(models.ExportBatch.__table__.update()
                        .where(models.ExportBatch.credential == "aama-cma").values(exporter="fax"))
        session.commit()
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert [d["credential"] for d in report.delivered] == ["amt-rma"]
    [failed] = report.failed
    assert failed["dead"] is True and "exporter 'fax' is no longer installed" in failed["error"]


def test_overdue_batches_are_flagged_in_the_report_and_status(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, '[defaults]\nrequires = []\nexporter = "claims-csv"\ndeadline_days = 30\n')
    credit(runtime.sessions, "123", "1", credential="aama-cma", completed_at=COMPLETED)
    credit(runtime.sessions, "123", "2", credential="amt-rma", completed_at=models.utcnow())
    with read_session(runtime.sessions) as session:
        before = export_status(session, runtime.exports)
    assert before["total"]["overdue"] == 1 and before["destinations"]["directory"]["pending"] == 2
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert [(d["credential"], d["overdue"]) for d in report.delivered] == [("aama-cma", True), ("amt-rma", False)]
    with read_session(runtime.sessions) as session:
        after = export_status(session, runtime.exports)
    assert after["total"]["overdue"] == 0 and after["total"]["delivered"] == 2
