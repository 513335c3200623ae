"""The export tick delivers each claim once, retries failures, and exports reversals."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import models
from lti_tool.runtime import Runtime
from lti_tool.services.exporting import run_export_tick
from tests.spine import fixture_bytes, import_mapping, moodle_completed


@pytest.fixture
def credited(client: FlaskClient, cli_json: Callable[..., Any], tmp_path: Path) -> list[dict[str, Any]]:
    canvas = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")
    moodle = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=90,
                   title="HIPAA basics", credentials=["acmss-cmss", "iacet-ceu"])
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="7", minutes=60, credentials=["acmss-cmss"])
    client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json"))
    client.post(moodle["url"], json=moodle_completed("42", "7"))
    return cli_json("awards", "list")


def rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def tick(runtime: Runtime, **kwargs: Any) -> Any:
    return run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, **kwargs)


def test_tick_writes_one_csv_per_credential_with_every_claim(runtime: Runtime, credited: list[dict[str, Any]]) -> None:
    report = tick(runtime)
    files = {d["credential"]: d["file"] for d in report.delivered}
    assert set(files) == {"acmss-cmss", "iacet-ceu"}
    cmss = rows(files["acmss-cmss"])
    assert [(r["learner_id"], r["course_id"], r["credit"]) for r in cmss] == [("123", "565", "1.5"), ("42", "7", "1")]
    assert cmss[0]["course_title"] == "HIPAA basics"
    assert cmss[0]["entry"] == "credit" and len(cmss[0]["claim_key"]) == 64
    assert Path(files["acmss-cmss"]).parent == runtime.settings.exports_dir / "acmss-cmss"


def test_second_tick_delivers_nothing_new(runtime: Runtime, credited: list[dict[str, Any]]) -> None:
    first = tick(runtime)
    second = tick(runtime)
    assert len(first.delivered) == 2
    assert second.delivered == [] and second.failed == []
    exported = list((runtime.settings.exports_dir).rglob("*.csv"))
    assert len(exported) == 2


def test_failed_delivery_is_recorded_and_retried_later_once(runtime: Runtime, credited: list[dict[str, Any]]) -> None:
    exports = runtime.settings.exports_dir
    exports.parent.mkdir(parents=True, exist_ok=True)
    exports.write_text("a file where the exports folder should be")
    failed = tick(runtime)
    assert len(failed.failed) == 2 and failed.delivered == []
    with runtime.sessions() as session:
        batches = session.scalars(select(models.ExportBatch)).all()
        assert {b.status for b in batches} == {"failed"}
        assert all(b.last_error and b.attempts == 1 for b in batches)
        retry_at = max(b.next_attempt_at for b in batches)
    exports.unlink()
    assert tick(runtime).delivered == []  # not due yet: backoff
    later = tick(runtime, now=retry_at + timedelta(seconds=1))
    assert len(later.delivered) == 2
    assert sum(len(rows(d["file"])) for d in later.delivered) == 3
    assert tick(runtime, now=retry_at + timedelta(seconds=2)).delivered == []


def test_crashed_delivery_is_taken_up_again_after_its_lease(runtime: Runtime, credited: list[dict[str, Any]]) -> None:
    from lti_tool.db import write_session
    from lti_tool.services.export_batching import form_batches
    from lti_tool.services.export_delivery import lease

    now = models.utcnow()
    with write_session(runtime.sessions) as session:
        [first, *_] = form_batches(session, now, runtime.exports)
    assert lease(runtime.sessions, first, now, 300)  # a tick took it, then died
    assert not lease(runtime.sessions, first, now, 300)
    assert all(d["batch"] != first for d in tick(runtime, now=now).delivered)
    after = tick(runtime, now=now + timedelta(seconds=301))
    assert [d["batch"] for d in after.delivered] == [first]


def test_revocation_is_exported_as_a_reversing_claim(
    runtime: Runtime, credited: list[dict[str, Any]], cli_json: Callable[..., Any]
) -> None:
    tick(runtime)
    award = next(a for a in credited if a["credential"] == "iacet-ceu")
    revoked = cli_json("awards", "revoke", str(award["id"]), "--reason", "course was not approved")
    assert revoked["revoked"] is True and revoked["amount"] == "-0.2"
    again = cli_json("awards", "revoke", str(award["id"]), "--reason", "twice")
    assert again["revoked"] is False
    [delivery] = tick(runtime).delivered
    [row] = rows(delivery["file"])
    assert (row["entry"], row["credit"], row["award_id"]) == ("reversal", "-0.2", str(award["id"]))
    assert next(a for a in cli_json("awards", "list") if a["id"] == award["id"])["revoked"] is True
