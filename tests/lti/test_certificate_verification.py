"""The learner's certificate carries its verification URL, printed and as a QR code, and that URL
opens the public verification page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.lti.keys import jwks
from lti_tool.runtime import Runtime
from tests.lifecycle.pdf_reading import pdf_text, qr_codes
from tests.lti.conftest import Launcher
from tests.lti.pages import complete
from tests.lti.platform import ADMINISTRATOR
from tests.lti.test_pages import open_as, save_mapping


def certificate(launch: Launcher, runtime: Runtime, source: dict[str, Any]) -> bytes:
    complete(runtime, source["id"], "42", "565", name="Ada Lovelace")
    open_as(launch, sub="99", roles=ADMINISTRATOR)
    save_mapping(launch)
    open_as(launch, sub="42")
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id))
    response = launch.client.get(f"/lti/certificates/{award_id}.pdf")
    assert response.status_code == 200
    return response.data


def test_the_certificates_qr_code_is_its_printed_verification_url(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], tmp_path: Path
) -> None:
    data = certificate(launch, runtime, source)
    [url] = qr_codes(data, tmp_path)
    assert url.startswith("http://localhost/verify/")
    assert f"Verify at: {url}" in pdf_text(data, tmp_path)


def test_the_verification_url_opens_the_public_page_of_that_award(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], tmp_path: Path
) -> None:
    [url] = qr_codes(certificate(launch, runtime, source), tmp_path)
    page = launch.client.application.test_client().get(url.removeprefix("http://localhost"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ada Lovelace" in text and "HIPAA basics" in text and "Valid" in text


def test_downloading_the_certificate_again_keeps_its_code(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    first = qr_codes(certificate(launch, runtime, source), tmp_path / "a")
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id))
    (tmp_path / "b").mkdir()
    again = qr_codes(launch.client.get(f"/lti/certificates/{award_id}.pdf").data, tmp_path / "b")
    assert first == again


def test_the_learner_downloads_their_award_as_a_credential_signed_with_the_tools_key(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    certificate(launch, runtime, source)
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id))
        published = {k["kid"]: k for k in jwks(session)["keys"]}
    response = launch.client.get(f"/lti/learner/badges/{award_id}.jwt")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    token = response.get_data(as_text=True)
    key = jwt.PyJWK(published[jwt.get_unverified_header(token)["kid"]])
    payload = jwt.decode(token, key.key, algorithms=["RS256"])
    assert "AchievementCredential" in payload["type"] and payload["credentialSubject"]["achievement"]["name"] == "HIPAA basics"
    assert payload["credentialStatus"]["statusListIndex"] == str(award_id)


def test_a_learner_cannot_download_another_learners_signed_credential(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    certificate(launch, runtime, source)
    open_as(launch, sub="43")
    with read_session(runtime.sessions) as session:
        award_id = session.scalar(select(models.Award.id))
    assert launch.client.get(f"/lti/learner/badges/{award_id}.jwt").status_code == 404
