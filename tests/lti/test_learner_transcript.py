"""The learner downloads their transcript (PDF and CSV) from their page; only their own."""

from __future__ import annotations

from typing import Any

from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.pages import CREDENTIAL
from tests.lti.test_certificate_verification import certificate
from tests.lti.test_pages import open_as


def test_the_learner_page_links_and_serves_the_transcript_as_pdf_and_csv(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    certificate(launch, runtime, source)
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    assert f"/lti/learner/transcript/{CREDENTIAL}.pdf" in page
    pdf = launch.client.get(f"/lti/learner/transcript/{CREDENTIAL}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    csv = launch.client.get(f"/lti/learner/transcript/{CREDENTIAL}.csv").get_data(as_text=True)
    assert "HIPAA basics" in csv and "award" in csv


def test_another_learner_has_no_transcript_of_this_credit(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    certificate(launch, runtime, source)
    open_as(launch, sub="43")
    assert launch.client.get(f"/lti/learner/transcript/{CREDENTIAL}.csv").status_code == 404


def test_a_bad_cycle_is_400(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> None:
    certificate(launch, runtime, source)
    assert launch.client.get(f"/lti/learner/transcript/{CREDENTIAL}.csv?cycle=June").status_code == 400
