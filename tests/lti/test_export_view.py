"""The administrator page's export status, scoped to the launch's platform, and its retry button.

Two platforms, A (source moodle-1) and B (moodle-2), each with learners who completed course 565:

- A maps it to iacet-ceu (by e-mail, consent required, reporting deadline 10 days), aama-cma (by
  e-mail) and amt-rma (to the directory); B maps it to aama-cma only.
- A's learner 42 consents to IACET reporting, 43 does not. One real tick: the iacet-ceu batch (42's
  claim only: A's alone) and the aama-cma batch (42, 43 and B's 77: shared) die on the closed SMTP
  port; amt-rma is delivered to the directory; 43's iacet-ceu claim waits for consent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from lti_tool.settings import Settings
from lti_tool.web.views.export_view import platform_exports
from tests.lti.conftest import Launcher
from tests.lti.exports import dead_letter_settings, export_tick
from tests.lti.pages import complete, csrf_token, mapping_form
from tests.lti.platform import ADMINISTRATOR, LEARNER, TestPlatform

PER_CREDENTIAL = """
[credentials.iacet-ceu]
requires = ["consent"]
deadline_days = 10
[credentials.amt-rma]
destination = "directory"
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return dead_letter_settings(database_url, tmp_path, PER_CREDENTIAL)


def source_id(runtime: Runtime, name: str) -> int:
    with read_session(runtime.sessions) as session:
        found = session.scalar(select(models.Source.id).where(models.Source.name == name))
    assert found is not None
    return found


def as_admin(launcher: Launcher) -> None:
    assert launcher(launcher.platform.claims(sub="99", roles=ADMINISTRATOR)).status_code == 303


def save_mapping(launcher: Launcher, credentials: str) -> None:
    as_admin(launcher)
    token = csrf_token(launcher.client, "/lti/mapping")
    saved = launcher.client.post("/lti/mapping", data=mapping_form(token, credentials=credentials))
    assert saved.status_code == 200, saved.get_data(as_text=True)


def consent(launcher: Launcher, user: str, credential: str) -> None:
    assert launcher(launcher.platform.claims(sub=user, roles=LEARNER)).status_code == 303
    token = csrf_token(launcher.client, "/lti/learner")
    assert launcher.client.post("/lti/learner/credentials", data={
        "csrf_token": token, "credential": credential, "consent": "on"}).status_code == 303


def batch_of(runtime: Runtime, credential: str) -> models.ExportBatch:
    with read_session(runtime.sessions) as session:
        batch = session.scalar(select(models.ExportBatch).where(models.ExportBatch.credential == credential))
        assert batch is not None
        session.expunge(batch)
        return batch


@pytest.fixture
def exported(launch: Launcher, other_platform: TestPlatform, runtime: Runtime, source: dict[str, Any]
             ) -> tuple[Launcher, Launcher]:
    """The scenario of the module docstring; returns (A's launcher, B's launcher)."""
    other = Launcher(launch.client, other_platform)
    for user in ("42", "43"):
        complete(runtime, source["id"], user, "565", name=f"A-learner-{user}")
    complete(runtime, source_id(runtime, "moodle-2"), "77", "565", name="B-learner-77")
    save_mapping(launch, "iacet-ceu, aama-cma, amt-rma")
    save_mapping(other, "aama-cma")
    consent(launch, "42", "iacet-ceu")
    report = export_tick(runtime)
    assert sorted(f["credential"] for f in report["failed"]) == ["aama-cma", "iacet-ceu"]
    assert [d["credential"] for d in report["delivered"]] == ["amt-rma"]
    return launch, other


def counts(page: str, destination: str) -> dict[str, int]:
    row = re.search(rf'<tr data-destination="{destination}">(.*?)</tr>', page, flags=re.S)
    assert row, page
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', row.group(1))}


def batch_rows(page: str, table: str) -> dict[int, list[str]]:
    """Rows of the ``table`` (``dead-batches``, ``last-runs``) by batch id: its cells' HTML."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, flags=re.S)
    if body is None:
        return {}
    rows: dict[int, list[str]] = {}
    for batch, cells in re.findall(r'<tr data-batch="(\d+)">(.*?)</tr>', body.group(1), flags=re.S):
        rows.setdefault(int(batch), []).extend(re.findall(r"<td>(.*?)</td>", cells, flags=re.S))
    return rows


def admin_page(launcher: Launcher) -> str:
    as_admin(launcher)
    response = launcher.client.get("/lti/mapping")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_admin_sees_its_platforms_counts_dead_batches_and_last_runs(
    exported: tuple[Launcher, Launcher], runtime: Runtime
) -> None:
    a, _ = exported
    page = admin_page(a)
    # mail: 42's iacet (dead, overdue), 43's iacet (pending, waiting, overdue), 42's and 43's aama (dead)
    assert counts(page, "mail") == {"pending": 1, "waiting": 1, "delivered": 0, "failed": 0, "dead": 3,
                                    "overdue": 2}
    assert counts(page, "directory") == {"pending": 0, "waiting": 0, "delivered": 2, "failed": 0, "dead": 0,
                                         "overdue": 0}
    iacet, aama = batch_of(runtime, "iacet-ceu"), batch_of(runtime, "aama-cma")
    dead = batch_rows(page, "dead-batches")
    assert set(dead) == {iacet.id, aama.id}
    assert dead[iacet.id][3] == "1" and "SMTP 127.0.0.1" in dead[iacet.id][5]
    assert f'action="/lti/exports/{iacet.id}/retry"' in dead[iacet.id][6]
    assert dead[aama.id][3] == "2" and "SMTP" not in dead[aama.id][5] and "operator" in dead[aama.id][5]
    assert "<form" not in dead[aama.id][6]
    runs = batch_rows(page, "last-runs")
    assert "dead" in runs[iacet.id][5] and "SMTP 127.0.0.1" in runs[iacet.id][6]
    assert "SMTP" not in runs[aama.id][6]
    amt = batch_of(runtime, "amt-rma")
    assert "delivered" in runs[amt.id][5] and runs[amt.id][6].strip() == ""


def test_another_platforms_admin_sees_only_its_own_claims(
    exported: tuple[Launcher, Launcher], runtime: Runtime
) -> None:
    _, b = exported
    page = admin_page(b)
    assert counts(page, "mail") == {"pending": 0, "waiting": 0, "delivered": 0, "failed": 0, "dead": 1,
                                    "overdue": 0}
    assert counts(page, "directory")["delivered"] == 0
    iacet, aama = batch_of(runtime, "iacet-ceu"), batch_of(runtime, "aama-cma")
    assert set(batch_rows(page, "dead-batches")) == {aama.id}
    assert set(batch_rows(page, "last-runs")) == {aama.id}
    exports = page[page.index('<section id="exports"'):]  # the mapping form above names every credential
    assert "SMTP" not in exports and "iacet-ceu" not in exports and "A-learner" not in page
    assert f'data-batch="{iacet.id}"' not in page
    assert batch_rows(page, "dead-batches")[aama.id][3] == "1"


def test_the_platforms_counts_add_up_to_the_cli_status(
    exported: tuple[Launcher, Launcher], runtime: Runtime, cli_json: Callable[..., Any]
) -> None:
    """Every learner here is A's or B's, so their two views add up to ``export status --json``;
    ``now`` moved on, B's aama claim (no deadline) is still not overdue and A's iacet ones are."""
    everything = cli_json("export", "status")
    with read_session(runtime.sessions) as session:
        a = platform_exports(session, runtime.exports, source_id(runtime, "moodle-1"))
        b = platform_exports(session, runtime.exports, source_id(runtime, "moodle-2"))
        later = platform_exports(session, runtime.exports, source_id(runtime, "moodle-2"),
                                 now=models.utcnow() + timedelta(days=3650))
    for destination, total in everything["destinations"].items():
        assert {k: a.destinations[destination][k] + b.destinations[destination][k] for k in total} == total
    assert later.total["overdue"] == 0 and a.total["overdue"] == 2
    assert len(everything["dead_batches"]) == 2 and len(b.dead_batches) == 1


def test_the_admin_retries_a_dead_batch_of_its_own_platform_audit_logged(
    exported: tuple[Launcher, Launcher], runtime: Runtime
) -> None:
    a, _ = exported
    iacet = batch_of(runtime, "iacet-ceu")
    as_admin(a)
    token = csrf_token(a.client, "/lti/mapping")
    assert a.client.post(f"/lti/exports/{iacet.id}/retry").status_code == 400  # no CSRF token
    assert batch_of(runtime, "iacet-ceu").status == "dead"
    response = a.client.post(f"/lti/exports/{iacet.id}/retry", data={"csrf_token": token})
    assert response.status_code == 303 and response.location.endswith(f"/lti/mapping?retried={iacet.id}")
    assert f"Export batch {iacet.id} is back in line" in a.client.get(response.location).get_data(as_text=True)
    assert batch_of(runtime, "iacet-ceu").status == "pending"
    with read_session(runtime.sessions) as session:
        entry = session.scalar(select(models.AuditEntry).where(models.AuditEntry.action == "export.retry"))
        assert entry is not None and entry.lms_user_id == "99" and str(iacet.id) in entry.subject
        assert entry.before is not None and entry.before["status"] == "dead"
        assert "SMTP 127.0.0.1" in entry.before["last_error"]
        assert entry.after == {"status": "pending", "attempts": 1}
    again = a.client.post(f"/lti/exports/{iacet.id}/retry", data={"csrf_token": token})
    assert again.status_code == 409 and "only dead or failed" in again.get_data(as_text=True)


def test_a_shared_or_foreign_or_unknown_batch_cannot_be_retried_from_the_page(
    exported: tuple[Launcher, Launcher], runtime: Runtime, caplog: Any
) -> None:
    a, b = exported
    iacet, aama = batch_of(runtime, "iacet-ceu"), batch_of(runtime, "aama-cma")
    as_admin(a)
    token = csrf_token(a.client, "/lti/mapping")
    for batch_id in (aama.id, 999_999):
        response = a.client.post(f"/lti/exports/{batch_id}/retry", data={"csrf_token": token})
        assert response.status_code == 404 and "of this platform" in response.get_data(as_text=True)
    as_admin(b)
    token = csrf_token(b.client, "/lti/mapping")
    for batch_id in (iacet.id, aama.id):
        assert b.client.post(f"/lti/exports/{batch_id}/retry", data={"csrf_token": token}).status_code == 404
    assert batch_of(runtime, "iacet-ceu").status == "dead" and batch_of(runtime, "aama-cma").status == "dead"
    assert any("retry refused (404)" in r.getMessage() for r in caplog.records)
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.AuditEntry).where(models.AuditEntry.action == "export.retry")) is None
