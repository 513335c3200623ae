"""The learner downloads their audit packet per credential (and per renewal cycle) from their page;
nobody else's, from no other platform."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from typing import Any

from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.learners import add_credential, learner_key
from tests.lti.conftest import Launcher
from tests.lti.pages import CREDENTIAL, complete, csrf_token, mapping_form
from tests.lti.platform import ADMINISTRATOR, TestPlatform

CMA = "aama-cma"


def open_as(launcher: Launcher, sub: str, **claims: Any) -> None:
    assert launcher(launcher.platform.claims(sub=sub, **claims)).status_code == 303


def award_ada(launch: Launcher, runtime: Runtime, source: dict[str, Any], credentials: str = CREDENTIAL) -> int:
    """Ada (user 42 of platform A) completed course 565, mapped by A's administrator."""
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")
    open_as(launch, "99", roles=ADMINISTRATOR)
    token = csrf_token(launch.client, "/lti/mapping")
    saved = launch.client.post("/lti/mapping", data=mapping_form(
        token, credentials=credentials, approved_by="AAMA", category="clinical"))
    assert saved.status_code == 200 and "1 award(s) made" in saved.get_data(as_text=True)
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id).where(models.Award.credential == credentials))
    assert award_id is not None
    return award_id


def packet(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_learner_downloads_their_packet_naming_their_award(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    award_id = award_ada(launch, runtime, source)
    open_as(launch, "42")
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    link = f'href="/lti/learner/audit-packet/{CREDENTIAL}"'
    assert "Audit packets" in page and link in page
    response = launch.client.get(f"/lti/learner/audit-packet/{CREDENTIAL}")
    assert response.headers["Content-Disposition"] == f'attachment; filename="audit-packet-{CREDENTIAL}.zip"'
    with packet(response) as archive:
        names = archive.namelist()
        readme = archive.read("README.txt").decode()
        evidence = json.loads(archive.read(f"evidence/award-{award_id}.json"))
    assert f"Audit packet: {CREDENTIAL} for Ada Lovelace (LMS user 42)" in readme
    assert {"statement.pdf", "statement.csv"} <= set(names)
    assert len([n for n in names if n.startswith("certificates/")]) == 1
    assert evidence["award"]["id"] == award_id and evidence["award"]["credential"] == CREDENTIAL
    assert evidence["mapping"]["title"] == "HIPAA basics"


def test_the_packet_of_one_renewal_cycle_holds_only_that_cycles_awards(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    award_id = award_ada(launch, runtime, source, credentials=CMA)  # completed 2026-11-02
    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, key=learner_key(session, source["id"], "42"), credential=CMA,
                       number="CMA-1", certified_on=date(2026, 1, 1), cycle_start=None)
    open_as(launch, "42")
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    [cycle] = re.findall(rf'href="/lti/learner/audit-packet/{CMA}\?cycle=([0-9-]+)"', page)
    response = launch.client.get(f"/lti/learner/audit-packet/{CMA}?cycle={cycle}")
    assert f'filename="audit-packet-{CMA}-cycle-{cycle}.zip"' in response.headers["Content-Disposition"]
    with packet(response) as archive:
        assert f"evidence/award-{award_id}.json" in archive.namelist()
        assert f"Cycle: from {cycle} to " in archive.read("README.txt").decode()
    with packet(launch.client.get(f"/lti/learner/audit-packet/{CMA}?cycle=2026-12-01")) as later:
        assert not [n for n in later.namelist() if n.startswith("evidence/")]
        assert "0 claim(s)" in later.read("README.txt").decode()


def test_a_credential_on_file_without_credit_gives_an_empty_packet(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, key=learner_key(session, source["id"], "42"), credential=CMA,
                       number=None, certified_on=None, cycle_start=None)
    open_as(launch, "42")
    with packet(launch.client.get(f"/lti/learner/audit-packet/{CMA}")) as archive:
        assert archive.namelist() == ["README.txt"]


def test_another_learner_of_the_platform_gets_a_404_not_adas_packet(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], caplog: Any
) -> None:
    award_ada(launch, runtime, source)
    open_as(launch, "43")
    for path in (f"/lti/learner/audit-packet/{CREDENTIAL}", f"/lti/learner/audit-packet/{CREDENTIAL}?user=42"):
        response = launch.client.get(path)
        assert response.status_code == 404 and "Ada" not in response.get_data(as_text=True)
        assert "you hold no such credential" in response.get_data(as_text=True)
    assert any(f"audit-packet/{CREDENTIAL} refused (404)" in r.getMessage() for r in caplog.records)


def test_the_same_user_id_on_another_platform_gets_a_404(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], other_platform: TestPlatform
) -> None:
    award_ada(launch, runtime, source)
    other = Launcher(launch.client, other_platform)
    open_as(other, "42")
    assert other.client.get(f"/lti/learner/audit-packet/{CREDENTIAL}").status_code == 404


def test_an_unknown_credential_or_a_bad_cycle_is_a_clear_4xx_with_a_log_line(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], caplog: Any
) -> None:
    award_ada(launch, runtime, source)
    open_as(launch, "42")
    unknown = launch.client.get("/lti/learner/audit-packet/no-such-body")
    assert unknown.status_code == 404 and "no such credential" in unknown.get_data(as_text=True)
    bad = launch.client.get(f"/lti/learner/audit-packet/{CREDENTIAL}?cycle=last-year")
    assert bad.status_code == 400 and "not a date" in bad.get_data(as_text=True)
    messages = [r.getMessage() for r in caplog.records]
    assert any("no-such-body refused (404)" in m for m in messages)
    assert any(f"audit-packet/{CREDENTIAL} refused (400)" in m for m in messages)


def test_without_a_launch_there_is_no_packet(client: Any) -> None:
    assert client.get(f"/lti/learner/audit-packet/{CREDENTIAL}").status_code == 401
