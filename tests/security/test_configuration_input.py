"""What administrators and platforms configure: registration fields, platforms and sources added
by the CLI, and the headers of downloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.runtime import Runtime
from tests.lti.platform import TestPlatform


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("change", [
    {"client_id": "c" * 300_000}, {"client_id": "c\u0000"},
    {"https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "d" * 256}},
], ids=["client id 300 kB", "client id NUL", "deployment id over 255"])
def test_a_registration_answer_with_oversized_or_unclean_fields_is_400_and_stores_nothing(
    app: Flask, runtime: Runtime, change: dict[str, Any]
) -> None:
    platform = TestPlatform().start()
    try:
        original = platform.registration_answer
        platform.registration_answer = lambda: {**original(), **change}  # type: ignore[method-assign]
        response = app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"{platform.base}/.well-known/openid-configuration"})
    finally:
        platform.stop()
    assert response.status_code == 400
    assert count(runtime, models.Platform) == 0


@pytest.mark.parametrize("change", [
    {"jwks_uri": "http://127.0.0.1/" + "j" * 2001}, {"issuer": "x" * 1_000_000},
    {"authorization_endpoint": "http://127.0.0.1/\u0000"},
], ids=["jwks_uri over 2000", "issuer 1 MB", "authorization endpoint NUL"])
def test_a_configuration_with_oversized_or_unclean_fields_is_400_and_stores_nothing(
    app: Flask, runtime: Runtime, change: dict[str, Any]
) -> None:
    platform = TestPlatform().start()
    try:
        original = platform.openid_configuration
        platform.openid_configuration = lambda: {**original(), **change}  # type: ignore[method-assign]
        response = app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"{platform.base}/.well-known/openid-configuration"})
    finally:
        platform.stop()
    assert response.status_code == 400 and platform.registration is None
    assert count(runtime, models.Platform) == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://lms.example/", "https://169.254.169.254/keys",
                                 "https://[fe80::1]/keys"])
def test_sources_add_refuses_a_jwks_url_that_can_only_be_hostile(
    cli: Callable[..., Result], runtime: Runtime, url: str
) -> None:
    # Refused even under the tests' development policy, which lets loopback through.
    result = cli("sources", "add", "--kind", "canvas", "--name", "c", "--jwks-url", url, expect=None)
    assert result.exit_code != 0
    assert count(runtime, models.Source) == 0


def test_sources_add_refuses_a_name_with_a_nul(cli: Callable[..., Result], runtime: Runtime) -> None:
    result = cli("sources", "add", "--kind", "moodle", "--name", "m\x00", expect=None)
    assert result.exit_code != 0 and count(runtime, models.Source) == 0


def test_every_answer_says_nosniff(client: Any) -> None:
    assert client.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/lti/canvas.json").headers["X-Content-Type-Options"] == "nosniff"


def test_every_download_says_nosniff(launch: Any, runtime: Runtime, source: dict[str, Any]) -> None:
    """#11 item 16 named the CSV, ZIP and PDF downloads: each of the learner's and the instructor's."""
    from tests.lti.platform import INSTRUCTOR
    from tests.lti.test_course_roster import complete, map_course

    map_course(runtime, dict(source, name="moodle-1"), "iacet-ceu")
    complete(runtime, source, "42", "Ada Lovelace")
    with runtime.sessions() as session:
        award_id = session.scalar(select(models.Award.id))
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    downloads = [f"/lti/certificates/{award_id}.pdf", "/lti/learner/audit-packet/iacet-ceu",
                 "/lti/learner/transcript/iacet-ceu.pdf", "/lti/learner/transcript/iacet-ceu.csv"]
    answers = {path: launch.client.get(path) for path in downloads}
    assert launch(launch.platform.claims(sub="7", roles=INSTRUCTOR)).status_code == 303
    answers["/lti/course.csv"] = launch.client.get("/lti/course.csv")
    assert {path: (r.status_code, r.headers.get("X-Content-Type-Options")) for path, r in answers.items()} == {
        path: (200, "nosniff") for path in answers}
    assert {r.mimetype for r in answers.values()} == {"application/pdf", "application/zip", "text/csv"}
