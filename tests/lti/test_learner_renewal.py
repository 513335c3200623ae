"""The learner page's renewal forms: items that are not credit (confirmed with the date) and
outside credit with its certificate (checked by content, CSRF-protected, stored outside the web
root)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.certificate_files import FOLDER, MAX_BYTES
from lti_tool.services.learners import LearnerKey, add_credential
from tests.lti.conftest import Launcher
from tests.lti.pages import csrf_token

NCCT = "ncct-ncma"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def ncct_learner(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> Launcher:
    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, key=LearnerKey(source["id"], "42"), credential=NCCT,
                       number="N-1", certified_on=None, cycle_start=None)
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    return launch


def count(runtime: Runtime, model: Any) -> int:
    with read_session(runtime.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def page(launch: Launcher) -> str:
    return launch.client.get("/lti/learner").get_data(as_text=True)


def test_the_page_lists_the_fee_as_not_confirmed_and_not_ready(ncct_learner: Launcher) -> None:
    html = page(ncct_learner)
    assert "Other conditions of renewal" in html
    assert "The annual NCCT fee:" in html and "not confirmed" in html and "not ready to renew yet" in html


def test_the_learner_confirms_the_fee_with_its_date(ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/items", data={
        "csrf_token": token, "credential": NCCT, "item": "annual-fee", "confirmed_on": "2026-01-05"})
    assert response.status_code == 303
    with read_session(runtime.sessions) as session:
        [row] = session.scalars(select(models.RenewalConfirmation))
    assert (row.item, row.confirmed_on.isoformat(), row.recorded_by) == ("annual-fee", "2026-01-05", "learner")


def test_confirming_without_the_csrf_token_is_refused_and_stores_nothing(
        ncct_learner: Launcher, runtime: Runtime) -> None:
    response = ncct_learner.client.post("/lti/learner/items", data={"credential": NCCT, "item": "annual-fee"})
    assert response.status_code == 400
    assert count(runtime, models.RenewalConfirmation) == 0


@pytest.mark.parametrize("form, words", [
    ({"item": "dues"}, "no renewal item"), ({"confirmed_on": "soon"}, "not a date"),
    ({"amount": "-2"}, "above 0"), ({"credential": "aama-cma", "item": "x"}, "no renewal item"),
    ({"confirmed_on": "2999-01-05"}, "not between"), ({"amount": "1e40"}, "at most 4 decimal places"),
])
def test_a_bad_confirmation_is_400_and_stores_nothing(ncct_learner: Launcher, runtime: Runtime,
                                                      form: dict[str, str], words: str) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    data = {"csrf_token": token, "credential": NCCT, "item": "annual-fee", **form}
    response = ncct_learner.client.post("/lti/learner/items", data=data)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert count(runtime, models.RenewalConfirmation) == 0


def outside_form(token: str, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": token, "credential": NCCT, "title": "OSHA refresher", "provider": "State society",
            "date": "2026-02-01", "minutes": "90", "activity": "education", **fields}


def test_the_learner_records_outside_credit_with_a_certificate(ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", content_type="multipart/form-data", data=outside_form(
        token, certificate=(io.BytesIO(PDF), "osha.pdf")))
    assert response.status_code == 303
    with read_session(runtime.sessions) as session:
        [row] = session.scalars(select(models.OutsideCredit))
    assert (str(row.amount), row.status, row.recorded_by, row.certificate_type) == \
        ("1.5", "self-reported", "learner", "application/pdf")
    assert (runtime.settings.instance_dir / FOLDER / row.certificate_file).read_bytes() == PDF
    html = page(ncct_learner)
    assert "OSHA refresher" in html and "self-reported" in html


@pytest.mark.parametrize("content", [b"<script>alert(1)</script>", b"GIF89a"], ids=["html", "gif"])
def test_an_upload_that_is_not_a_pdf_png_or_jpeg_is_400_and_stores_nothing(
        ncct_learner: Launcher, runtime: Runtime, content: bytes) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", content_type="multipart/form-data", data=outside_form(
        token, certificate=(io.BytesIO(content), "certificate.pdf")))
    assert response.status_code == 400 and "PDF, PNG or JPEG" in response.get_data(as_text=True)
    assert count(runtime, models.OutsideCredit) == 0
    assert not (runtime.settings.instance_dir / FOLDER).exists() or not any(
        (runtime.settings.instance_dir / FOLDER).iterdir())


def test_an_upload_over_ten_megabytes_is_refused(ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    big = b"%PDF-1.4\n" + b"0" * MAX_BYTES
    response = ncct_learner.client.post("/lti/learner/outside", content_type="multipart/form-data", data=outside_form(
        token, certificate=(io.BytesIO(big), "big.pdf")))
    assert response.status_code in (400, 413)
    assert count(runtime, models.OutsideCredit) == 0


def test_recording_outside_credit_without_the_csrf_token_is_refused(ncct_learner: Launcher, runtime: Runtime) -> None:
    response = ncct_learner.client.post("/lti/learner/outside", data=outside_form("wrong"))
    assert response.status_code == 400
    assert count(runtime, models.OutsideCredit) == 0


def test_outside_credit_the_plugin_refuses_is_400(ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", data=outside_form(token, activity="orientation"))
    assert response.status_code == 400 and "orientation" in response.get_data(as_text=True)
    assert count(runtime, models.OutsideCredit) == 0


def test_outside_credit_dated_in_the_future_is_shown_beside_the_date(ncct_learner: Launcher,
                                                                     runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", data=outside_form(token, date="2999-02-01"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "not between 1950-01-01 and today" in html and 'value="2999-02-01"' in html
    assert count(runtime, models.OutsideCredit) == 0


def test_outside_credit_takes_the_facts_the_plugin_needs(ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", data=outside_form(
        token, minutes="", hours="2.7", activity="authorship", approved_by="ncct"))
    assert response.status_code == 303
    with read_session(runtime.sessions) as session:
        [row] = session.scalars(select(models.OutsideCredit))
    assert (row.minutes, str(row.amount), row.activity["approved_by"]) == (162, "2.5", ["NCCT"])


def test_outside_credit_without_minutes_or_hours_is_400(ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", data=outside_form(token, minutes=""))
    assert response.status_code == 400 and "contact minutes" in response.get_data(as_text=True)
    assert count(runtime, models.OutsideCredit) == 0


def hidden_outside_facts(html: str) -> set[str]:
    return set(re.findall(r'data-outside-fact="(\w+)" hidden', html))


def test_the_outside_form_shows_only_the_facts_of_its_activity_type(ncct_learner: Launcher) -> None:
    assert {"pilot_minutes", "offers_interaction", "structured", "own_minutes", "staffed_minutes", "repeat"} \
        <= hidden_outside_facts(page(ncct_learner))


def test_distance_learning_is_recorded_with_its_pilot_study_and_criteria(
        ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", data=outside_form(
        token, activity="distance", pilot_minutes="75", offers_interaction="on", structured="on",
        staffed_minutes="30"))  # a poster's fact, not distance learning's: not read
    assert response.status_code == 303, response.get_data(as_text=True)
    with read_session(runtime.sessions) as session:
        [row] = session.scalars(select(models.OutsideCredit))
    assert (row.activity["type"], row.activity["pilot_minutes"], row.activity["offers_interaction"],
            row.activity["structured"], row.activity["staffed_minutes"]) == ("distance", 75, True, True, None)


def test_a_presentations_own_portion_is_recorded(ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", data=outside_form(
        token, activity="presentation", own_minutes="40", repeat="on"))
    assert response.status_code == 303, response.get_data(as_text=True)
    with read_session(runtime.sessions) as session:
        [row] = session.scalars(select(models.OutsideCredit))
    assert (row.activity["own_minutes"], row.activity["first_time"]) == (40, False)


def test_field_errors_are_shown_beside_their_fields_with_what_was_typed(
        ncct_learner: Launcher, runtime: Runtime) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    response = ncct_learner.client.post("/lti/learner/outside", data=outside_form(
        token, activity="poster", staffed_minutes="half an hour", date="yesterday", title="Poster day"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for name, words in (("staffed_minutes", "whole number"), ("date", "YYYY-MM-DD")):
        assert re.search(rf'aria-invalid="true" aria-describedby="outside-{name}-error">'
                         rf'<span class="field-error" id="outside-{name}-error">[^<]*{words}', html), name
    assert 'value="Poster day"' in html and "staffed_minutes" not in hidden_outside_facts(html)
    assert count(runtime, models.OutsideCredit) == 0


def test_a_refusal_by_the_plugin_is_shown_beside_the_kind_of_activity(ncct_learner: Launcher) -> None:
    token = csrf_token(ncct_learner.client, "/lti/learner")
    html = ncct_learner.client.post("/lti/learner/outside", data=outside_form(
        token, activity="business_meeting")).get_data(as_text=True)
    assert re.search(r'id="outside-activity-error">[^<]*business meetings', html), html[-3000:]
