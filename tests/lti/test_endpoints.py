"""The tool's public LTI endpoints: login, JWKS, Canvas configuration, dynamic registration, deep
linking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.platform import INSTRUCTOR, LEARNER, LTI, TestPlatform

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def test_login_redirects_to_the_platform_with_state_and_nonce(client: Any, registered: TestPlatform) -> None:
    response = client.post("/lti/login", data={"iss": registered.issuer, "login_hint": "u",
                                               "lti_message_hint": "m1", "client_id": registered.client_id})
    assert response.status_code == 302
    url = urlsplit(response.location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{registered.base}/auth"
    query = parse_qs(url.query)
    assert query["redirect_uri"] == ["http://localhost/lti/launch"]
    assert query["response_mode"] == ["form_post"] and query["prompt"] == ["none"]
    assert query["lti_message_hint"] == ["m1"] and query["state"] and query["nonce"]


def test_login_from_an_unknown_platform_is_refused(client: Any, registered: TestPlatform) -> None:
    response = client.get("/lti/login", query_string={"iss": "https://evil.example", "login_hint": "u"})
    assert response.status_code == 403
    assert "not registered" in response.get_data(as_text=True)


def test_login_for_another_tools_target_is_refused(client: Any, registered: TestPlatform) -> None:
    response = client.get("/lti/login", query_string={
        "iss": registered.issuer, "login_hint": "u", "target_link_uri": "https://evil.example/lti/launch"})
    assert response.status_code == 400


def test_jwks_publishes_the_tool_key(client: Any, registered: TestPlatform) -> None:
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"
    assert "d" not in keys[0]


def test_canvas_configuration_asks_for_the_canvas_user_id(client: Any) -> None:
    config = client.get("/lti/canvas.json").get_json()
    assert config["oidc_initiation_url"] == "http://localhost/lti/login"
    assert config["target_link_uri"] == "http://localhost/lti/launch"
    assert config["public_jwk_url"] == "http://localhost/.well-known/jwks.json"
    assert config["custom_fields"] == {"canvas_user_id": "$Canvas.user.id", "canvas_course_id": "$Canvas.course.id"}
    [extension] = config["extensions"]
    assert extension["platform"] == "canvas.instructure.com" and extension["domain"] == "localhost"
    placements = {(p["placement"], p["message_type"]) for p in extension["settings"]["placements"]}
    assert placements == {("course_navigation", "LtiResourceLinkRequest"), ("link_selection", "LtiDeepLinkingRequest")}


def test_dynamic_registration_registers_a_pending_platform(
    client: Any, runtime: Runtime, cli_json: Callable[..., Any]
) -> None:
    platform = TestPlatform().start()
    try:
        response = client.get("/lti/register", query_string={
            "openid_configuration": f"{platform.base}/.well-known/openid-configuration",
            "registration_token": "reg-token-1"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert "org.imsglobal.lti.close" in response.get_data(as_text=True)
        assert platform.registration is not None
        assert platform.registration["auth"] == "Bearer reg-token-1"
        sent = platform.registration["body"]
        assert sent["initiate_login_uri"] == "http://localhost/lti/login"
        assert sent["jwks_uri"] == "http://localhost/.well-known/jwks.json"
        assert sent["redirect_uris"] == ["http://localhost/lti/launch"]
        assert sent["token_endpoint_auth_method"] == "private_key_jwt"
        tool = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
        assert tool["custom_parameters"]["canvas_user_id"] == "$Canvas.user.id"
        assert {m["type"] for m in tool["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
        [row] = cli_json("platforms", "list")
        assert (row["client_id"], row["deployment_ids"], row["status"]) == ("dyn-client-9", ["dyn-dep-1"], "pending")
        refused = client.get("/lti/login", query_string={"iss": platform.issuer, "login_hint": "u"})
        assert refused.status_code == 403
        assert platform.base not in refused.headers["Content-Security-Policy"]
        cli_json("sources", "add", "--kind", "moodle", "--name", "m")
        approved = cli_json("platforms", "approve", str(row["id"]), "--source", "m")
        assert approved["status"] == "active" and approved["source"] == "m"
    finally:
        platform.stop()


def test_dynamic_registration_with_a_mismatched_issuer_is_refused(client: Any, runtime: Runtime) -> None:
    platform = TestPlatform().start()
    try:
        original = platform.openid_configuration
        platform.openid_configuration = lambda: {**original(), "issuer": "https://other.example"}  # type: ignore[method-assign]
        response = client.get("/lti/register", query_string={
            "openid_configuration": f"{platform.base}/.well-known/openid-configuration"})
        assert response.status_code == 400
        assert "issuer does not match" in response.get_data(as_text=True)
        with read_session(runtime.sessions) as session:
            assert session.scalar(select(models.Platform)) is None
    finally:
        platform.stop()


def deep_linking_claims(platform: TestPlatform, roles: list[str]) -> dict[str, Any]:
    return platform.claims(roles=roles, **{
        LTI + "message_type": "LtiDeepLinkingRequest", LTI + "resource_link": None,
        DL_SETTINGS: {"deep_link_return_url": f"{platform.base}/deep-link-return",
                      "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe"],
                      "data": "opaque-1"}})


def test_an_instructor_places_the_tool_by_deep_linking(launch: Launcher) -> None:
    response = launch(deep_linking_claims(launch.platform, INSTRUCTOR))
    assert response.status_code == 303 and response.location.endswith("/lti/deep-link")
    page = launch.client.get("/lti/deep-link").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    back = launch.client.post("/lti/deep-link", data={"csrf_token": token, "title": "CE credit"})
    html = back.get_data(as_text=True)
    assert f'action="{launch.platform.base}/deep-link-return"' in html
    signed = re.search(r'name="JWT" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    jwks = jwt.PyJWKSet.from_dict(launch.client.get("/.well-known/jwks.json").get_json())
    kid = jwt.get_unverified_header(signed)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    message = jwt.decode(signed, key.key, algorithms=["RS256"], audience=launch.platform.issuer)
    assert message["iss"] == launch.platform.client_id
    assert message[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert message["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-1"
    [item] = message["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == "http://localhost/lti/launch"


def test_a_learner_cannot_place_the_tool(launch: Launcher) -> None:
    launch(deep_linking_claims(launch.platform, LEARNER))
    assert launch.client.get("/lti/deep-link").status_code == 403


def test_canvas_cloud_pages_may_be_framed_by_school_hosts(client: Any, cli_json: Callable[..., Any]) -> None:
    cli_json("platforms", "add", "--issuer", "https://canvas.instructure.com", "--client-id", "100",
             "--deployment-id", "1:a", "--auth-login-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
             "--auth-token-url", "https://sso.canvaslms.com/login/oauth2/token",
             "--key-set-url", "https://sso.canvaslms.com/api/lti/security/jwks")
    csp = client.get("/lti/login").headers["Content-Security-Policy"]
    assert "https://*.instructure.com" in csp and "https://sso.canvaslms.com" in csp


def test_an_issuer_that_is_only_a_string_prefix_of_the_configuration_url_is_refused() -> None:
    from lti_tool.lti.registration import issued_by

    assert issued_by("https://lms.example/.well-known/openid-configuration", "https://lms.example")
    assert not issued_by("https://lms.example.evil/.well-known/openid-configuration", "https://lms.example")
    assert issued_by("https://school.instructure.com/api/lti/security/openid-configuration",
                     "https://canvas.instructure.com")
    assert not issued_by("https://evil.example/api/lti/security/openid-configuration",
                         "https://canvas.instructure.com")


def test_dynamic_registration_gives_up_on_a_silent_platform(settings: Any) -> None:
    import socket
    import time

    from lti_tool.runtime import build_runtime
    from lti_tool.web.app import create_app

    quick = settings.model_copy(update={"lti": settings.lti.model_copy(update={"http_timeout_seconds": 0.5})})
    client = create_app(build_runtime(quick), {"TESTING": True}).test_client()
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        response = client.get("/lti/register", query_string={
            "openid_configuration": f"http://127.0.0.1:{port}/.well-known/openid-configuration"})
    assert response.status_code == 400 and "could not be reached" in response.get_data(as_text=True)
    assert time.monotonic() - started < 5
