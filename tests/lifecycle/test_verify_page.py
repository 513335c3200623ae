"""/verify/<code>: public, shows only what the certificate states and its status, rate-limited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.ledger import revoke_award
from lti_tool.services.verification import code_for
from lti_tool.settings import Settings, load_settings
from lti_tool.web.app import create_app
from tests.conftest import DEMO_EXPORTS, REPO
from tests.exports.ledger_rows import credit, learner


def certified(runtime: Runtime, number: str = "CMSS-998877") -> tuple[int, str]:
    with write_session(runtime.sessions) as session:
        learner(session, "u-42", name="Ada Lovelace", number={"acmss-cmss": number})
    award_id = credit(runtime.sessions, "u-42", "565", amount="1.5")
    with write_session(runtime.sessions) as session:
        return award_id, code_for(session, award_id)


def test_a_valid_certificate_shows_name_course_date_credit_credential_body_issuer(
    client: FlaskClient, runtime: Runtime
) -> None:
    _, code = certified(runtime)
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    for words in ("Ada Lovelace", "Course 565", "2026-03-04", "1.5 CME", "(acmss-cmss)", "ACMSS", "lti-tool",
                  "Valid"):
        assert words in page, words


def test_the_page_shows_no_email_licence_number_or_lms_id(client: FlaskClient, runtime: Runtime) -> None:
    _, code = certified(runtime, number="CMSS-998877")
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "CMSS-998877" not in page and "u-42" not in page and "@example.org" not in page


def test_a_revoked_award_says_revoked_with_the_date(client: FlaskClient, runtime: Runtime) -> None:
    award_id, code = certified(runtime)
    with write_session(runtime.sessions) as session:
        entry = revoke_award(session, award_id, "course was not approved")
        assert entry is not None
        revoked_on = entry.created_at.date().isoformat()
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert f"Revoked on {revoked_on}" in page and "Valid:" not in page


def test_an_unknown_code_is_404(client: FlaskClient, runtime: Runtime) -> None:
    certified(runtime)
    response = client.get("/verify/not-a-real-code")
    assert response.status_code == 404 and "No certificate has this code" in response.get_data(as_text=True)


def test_a_code_longer_than_any_code_is_404_without_a_query(client: FlaskClient) -> None:
    assert client.get("/verify/" + "x" * 500).status_code == 404


@pytest.mark.parametrize("odd", ["abc%00def", "%00", "%C3%A9t%C3%A9-%E2%82%AC", "a%20b", "a.b~c"])
def test_an_odd_code_nul_unicode_or_punctuation_is_404_never_500(
    client: FlaskClient, runtime: Runtime, odd: str
) -> None:
    certified(runtime)
    response = client.get(f"/verify/{odd}")
    assert response.status_code == 404 and "No certificate has this code" in response.get_data(as_text=True)


def test_each_award_keeps_one_code_and_codes_are_unguessable(runtime: Runtime) -> None:
    award_id, code = certified(runtime)
    with write_session(runtime.sessions) as session:
        assert code_for(session, award_id) == code
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", code)
    other = credit(runtime.sessions, "u-43", "566")
    with write_session(runtime.sessions) as session:
        assert code_for(session, other) != code


def test_the_page_needs_no_launch(client: FlaskClient, runtime: Runtime) -> None:
    _, code = certified(runtime)
    response = client.get(f"/verify/{code}")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


@pytest.fixture
def limited_settings(database_url: str, tmp_path: Path) -> Settings:
    from tests.conftest import clean_database
    clean_database(database_url)
    return load_settings(database_url=database_url, instance_dir=tmp_path / "instance",
                         config_dir=REPO / "config", exports_path=DEMO_EXPORTS,
                         certificates={"verify_rate_limit": "3 per minute"})


def test_the_page_is_rate_limited_per_client(limited_settings: Settings) -> None:
    from lti_tool.runtime import build_runtime
    rt = build_runtime(limited_settings)
    try:
        client = create_app(rt, {"TESTING": True}).test_client()
        statuses = [client.get("/verify/abc").status_code for _ in range(4)]
        other = client.get("/verify/abc", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code
    finally:
        rt.engine.dispose()
    assert statuses == [404, 404, 404, 429] and other == 404
