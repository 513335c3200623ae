"""Behind a TLS proxy the tool sees HTTPS (cookies stay Secure); the nonce's unique key refuses a
second use whatever the path."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.lti import launch as launch_service
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.runtime import Runtime, build_runtime
from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from tests.lti.platform import TestPlatform


def test_behind_a_tls_proxy_cookies_are_secure(settings: Settings, registered: TestPlatform) -> None:
    proxied = settings.model_copy(update={"lti": settings.lti.model_copy(update={"proxy_hops": 1})})
    client: FlaskClient = create_app(build_runtime(proxied), {"TESTING": True}).test_client()
    tls = {"X-Forwarded-Proto": "https"}
    started = client.get("/lti/login", headers=tls, query_string={
        "iss": registered.issuer, "login_hint": "u", "client_id": registered.client_id})
    assert started.status_code == 302, started.get_data(as_text=True)
    auth = {k: v[0] for k, v in parse_qs(urlsplit(started.location).query).items()}
    token = registered.sign(registered.claims(nonce=auth["nonce"]))
    response = client.post("/lti/launch", data={"id_token": token, "state": auth["state"]}, headers=tls)
    assert response.status_code == 303, response.get_data(as_text=True)
    for cookie in (*started.headers.getlist("Set-Cookie"), *response.headers.getlist("Set-Cookie")):
        assert cookie.startswith("__Host-"), cookie
        assert "Secure" in cookie and "SameSite=None" in cookie and "Partitioned" in cookie, cookie


def test_a_nonce_is_consumed_once(runtime: Runtime, registered: TestPlatform) -> None:
    with write_session(runtime.sessions) as session:
        platform_id = session.scalar(select(models.Platform.id))
        launch_service.consume_nonce(session, platform_id, "n-1", runtime.settings.lti)
    with pytest.raises(LaunchRejected, match="nonce replayed"), write_session(runtime.sessions) as session:
        launch_service.consume_nonce(session, platform_id, "n-1", runtime.settings.lti)


def test_a_login_over_plain_http_at_an_https_tool_warns_once_to_set_the_proxy_hops(
    settings: Settings, registered: TestPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """Behind a TLS proxy without ``proxy_hops`` the tool sees plain HTTP: its cookies lose
    ``Secure``, ``SameSite=None`` and ``__Host-``, and the LMS's frame drops them. Said in the log,
    once, and only then."""
    from lti_tool.web.lti import launch

    public = settings.model_copy(update={"lti": settings.lti.model_copy(update={"public_url": "https://tool.example"})})
    cases = {"plain HTTP, no public URL": (settings, False), "HTTPS at an https tool": (public, True),
             "plain HTTP at an https tool": (public, False)}
    warnings: dict[str, int] = {}
    for case, (app_settings, https) in cases.items():
        launch._plain_http_warned.clear()
        caplog.clear()
        rt = build_runtime(app_settings)
        client: FlaskClient = create_app(rt, {"TESTING": True}).test_client()
        for _ in range(2):  # a second login in the same process is not warned of again
            with caplog.at_level("WARNING", logger="lti_tool.web.lti.launch"):
                client.get("/lti/login", base_url="https://tool.example" if https else "http://localhost",
                           query_string={"iss": registered.issuer, "login_hint": "u"})
        rt.engine.dispose()
        warnings[case] = sum("lti.proxy_hops" in r.getMessage() for r in caplog.records)
    assert warnings == {"plain HTTP, no public URL": 0, "HTTPS at an https tool": 0, "plain HTTP at an https tool": 1}
