"""A claim that cannot be rendered (a completion stored as year 1, before the door refused such
dates) goes to the dead letter alone; the other claims of its batch are delivered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from lti_tool import models
from lti_tool.runtime import Runtime
from lti_tool.services.exporting import run_export_tick
from tests.exports.ledger_rows import credit
from tests.exports.test_delivery import configure


def test_one_unrenderable_claim_does_not_hold_the_others(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, """
[defaults]
exporter = "open-badges"
destination = "directory"
requires = []
""")
    good = [credit(runtime.sessions, str(user), "565", credential="aama-cma", number=f"AAMA-{user}")
            for user in (1, 2)]
    credit(runtime.sessions, "3", "565", credential="aama-cma", number="AAMA-3",
           completed_at=datetime(1, 1, 1, tzinfo=UTC))
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert report.failed == [] and len(report.delivered) == 1
    assert report.delivered[0]["claims"] == len(good)
    with runtime.sessions() as session:
        batches = session.scalars(select(models.ExportBatch).order_by(models.ExportBatch.id)).all()
    assert sorted(b.status for b in batches) == ["dead", "delivered"]
    [dead] = [b for b in batches if b.status == "dead"]
    assert "cannot be rendered" in (dead.last_error or "")
    again = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert again.delivered == [] and again.failed == []
