"""The pages behind a launch: learner credit and certificates, the instructor's roster, the
administrator's mapping with its preview, audit entry and crediting of waiting completions."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.learners import add_credential, learner_key
from tests.conftest import require
from tests.lti.conftest import Launcher
from tests.lti.pages import CREDENTIAL, complete, csrf_token, mapping_form
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR


def open_as(launch: Launcher, **claims: Any) -> None:
    response = launch(launch.platform.claims(**claims))
    assert response.status_code == 303, response.get_data(as_text=True)


def save_mapping(launch: Launcher, **fields: str) -> str:
    token = csrf_token(launch.client, "/lti/mapping")
    response = launch.client.post("/lti/mapping", data=mapping_form(token, **fields))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_credit_earned_before_the_first_launch_shows_at_the_first_launch(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565")
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    assert "1 award(s) made" in save_mapping(launch)
    open_as(launch, sub="42")
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    assert CREDENTIAL in page and "0.2" in page and "PDF certificate" in page
    assert "HIPAA basics" in page


def test_the_certificate_is_a_pdf_with_the_course_and_credit(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    save_mapping(launch)
    open_as(launch, sub="42")
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id))
    response = launch.client.get(f"/lti/certificates/{award_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")


def pdf_text(data: bytes, tmp_path: Any) -> str:
    require("pdf", shutil.which("pdftotext") is not None, "poppler-utils (pdftotext) is not installed")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())


def test_the_certificate_names_course_date_time_credit_index_number_and_the_bodys_proof(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], tmp_path: Any
) -> None:
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    save_mapping(launch, credentials="aama-cma", approved_by="AAMA", index_number="AAMA-IDX-77",
                 category="clinical")
    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, key=learner_key(session, source["id"], "42"), credential="aama-cma",
                       number="CMA-12345", certified_on=None, cycle_start=None)
    open_as(launch, sub="42")
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id))
    text = pdf_text(launch.client.get(f"/lti/certificates/{award_id}.pdf").data, tmp_path)
    for words in ("Ada Lovelace", "HIPAA basics", "Date completed: 2026-11-02", "Contact time: 120 minutes",
                  "Credit awarded: 2 recertification points", "Index number: AAMA-IDX-77",
                  "Member/licence no.: CMA-12345", "Certifying body: AAMA",
                  "Proof required by AAMA for Certified Medical Assistant",
                  "your member or licence number", "the approving body's index number"):
        assert words in text, (words, text)


def test_a_learner_cannot_download_another_learners_certificate(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565")
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    save_mapping(launch)
    open_as(launch, sub="43")
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id))
    assert launch.client.get(f"/lti/certificates/{award_id}.pdf").status_code == 404


def test_the_instructor_sees_the_courses_learners_filters_and_downloads_csv(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")
    complete(runtime, source["id"], "43", "565", name="Grace Hopper")
    complete(runtime, source["id"], "44", "999", name="Other Course")
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    save_mapping(launch)
    open_as(launch, sub="7", roles=INSTRUCTOR)
    page = launch.client.get("/lti/course").get_data(as_text=True)
    assert "Ada Lovelace" in page and "Grace Hopper" in page and "Other Course" not in page
    filtered = launch.client.get("/lti/course?q=grace").get_data(as_text=True)
    assert "Grace Hopper" in filtered and "Ada Lovelace" not in filtered
    by_name = launch.client.get("/lti/course?q=iacet+convention").get_data(as_text=True)
    assert "Grace Hopper" in by_name and "Continuing Education Units (IACET convention)" in by_name
    assert "No credit earned" in launch.client.get("/lti/course?q=medical+support").get_data(as_text=True)
    csv = launch.client.get("/lti/course.csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0] == "learner,learner_name,credential,credential_name,amount,unit,category,completed_at"
    assert len(lines) == 3


def test_the_mapping_preview_shows_the_award_per_credential_before_saving(
    launch: Launcher, runtime: Runtime
) -> None:
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    token = csrf_token(launch.client, "/lti/mapping")
    response = launch.client.post("/lti/mapping/preview", data=mapping_form(token, credentials=f"{CREDENTIAL}, nope"),
                                  headers={"X-CSRFToken": token})
    lines = response.get_json()["lines"]
    assert lines[0]["credential"] == CREDENTIAL and lines[0]["amount"] == "0.2"
    assert lines[1]["amount"] is None and "nope" in lines[1]["reason"]
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.CourseMapping)) is None


def test_saving_a_mapping_is_audit_logged(launch: Launcher, runtime: Runtime) -> None:
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    save_mapping(launch)
    save_mapping(launch, minutes="180")
    with read_session(runtime.sessions) as session:
        entries = list(session.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id)))
        mapping = session.scalar(select(models.CourseMapping))
        assert mapping is not None and mapping.course_id == "565" and mapping.minutes == 180
        assert [e.action for e in entries] == ["mapping.save", "mapping.save"]
        assert entries[0].before is None and entries[1].before["minutes"] == 120
        assert entries[1].after["minutes"] == 180 and entries[1].lms_user_id == "99"


def test_saving_without_crediting_waiting_completions_awards_nothing(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565")
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    page = save_mapping(launch, credit_existing="")
    assert "0 award(s) made" in page


def test_a_bad_mapping_form_is_a_400_with_the_reason_and_saves_nothing(
    launch: Launcher, runtime: Runtime, caplog: Any
) -> None:
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    token = csrf_token(launch.client, "/lti/mapping")
    for fields, words in (({"minutes": "-5"}, "minutes"), ({"credentials": "nope"}, "unknown credential"),
                          ({"activity": "juggling"}, "unknown activity"), ({"minutes": "", "credentials": ""}, "")):
        response = launch.client.post("/lti/mapping", data=mapping_form(token, **fields))
        assert response.status_code == 400, fields
        assert words in response.get_data(as_text=True)
    assert any("/lti/mapping refused (400)" in r.getMessage() for r in caplog.records)
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.CourseMapping)) is None
        assert session.scalar(select(models.AuditEntry)) is None


def test_a_mapping_form_without_csrf_token_is_refused(launch: Launcher, runtime: Runtime) -> None:
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    form = mapping_form("forged")
    assert launch.client.post("/lti/mapping", data=form).status_code == 400
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.CourseMapping)) is None


def test_pages_allow_framing_only_by_registered_platforms(launch: Launcher) -> None:
    open_as(launch)
    csp = launch.client.get("/lti/learner").headers["Content-Security-Policy"]
    assert csp == f"frame-ancestors 'self' {launch.platform.base}"
