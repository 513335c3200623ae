"""LTI 1.3 launches for the benchmarks: the test platform of the tests (a real RSA key, its JWKS
served over HTTP on 127.0.0.1, id_tokens signed with PyJWT), registered with the tool, and a browser
stand-in that goes through the tool's real OIDC login and launch endpoints."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from harness import ROOT  # noqa: F401 - puts the repository on sys.path for tests.lti.platform

from lti_tool.db import write_session
from lti_tool.lti.keys import ensure_key
from lti_tool.lti.platforms import add_platform
from lti_tool.runtime import Runtime
from tests.lti.platform import INSTRUCTOR, LEARNER, TestPlatform

__all__ = ["INSTRUCTOR", "LEARNER", "LaunchingBrowser", "Launched", "TestPlatform", "launch", "register"]


def register(rt: Runtime, platform: TestPlatform, source_name: str | None) -> None:
    """The platform registered with the tool (as ``lti-tool platforms add`` does), and a tool key."""
    with write_session(rt.sessions) as session:
        ensure_key(session)
        add_platform(session, issuer=platform.issuer, client_id=platform.client_id,
                     deployment_ids=[platform.deployment_id], auth_login_url=f"{platform.base}/auth",
                     auth_token_url=f"{platform.base}/token", key_set_url=f"{platform.base}/jwks",
                     source_name=source_name)


@dataclass
class Launched:
    browser: requests.Session
    """Holds the launch's session cookie: the pages it may open."""
    seconds: float
    """Login plus launch, as the browser waits for them (not the platform's signing)."""
    id_token: str


def launch(base: str, platform: TestPlatform, *, sub: str, roles: list[str],
           browser: requests.Session | None = None) -> Launched:
    """OIDC login initiation, then the id_token posted to the launch URL; both must succeed."""
    browser = browser or requests.Session()
    started = time.perf_counter()
    login = browser.get(f"{base}/lti/login", allow_redirects=False, timeout=30, params={
        "iss": platform.issuer, "login_hint": sub, "client_id": platform.client_id,
        "target_link_uri": f"{base}/lti/launch", "lti_deployment_id": platform.deployment_id})
    waited = time.perf_counter() - started
    if login.status_code != 302:
        raise SystemExit(f"FAILED: login answered {login.status_code}: {login.text[:300]}")
    query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    body = platform.claims(sub=sub, roles=roles)
    body["nonce"] = query["nonce"]
    token = platform.sign(body)
    started = time.perf_counter()
    answer = browser.post(f"{base}/lti/launch", data={"id_token": token, "state": query["state"]},
                          allow_redirects=False, timeout=30)
    waited += time.perf_counter() - started
    if answer.status_code != 303:
        raise SystemExit(f"FAILED: launch answered {answer.status_code}: {answer.text[:300]}")
    return Launched(browser, waited, token)


class LaunchingBrowser:
    """A browser that only launches: :func:`launch`'s two requests, with the cookie the login sets
    sent back to the launch as a browser sends it, over one keep-alive ``http.client`` connection.
    It spends about a tenth of ``requests``' CPU per request, which matters when the browsers share
    the server's cores. Each launch starts with no cookies (a new user)."""

    def __init__(self, base: str, platform: TestPlatform) -> None:
        url = urlsplit(base)
        self.base, self.platform = base, platform
        self.connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)

    def _send(self, method: str, path: str, body: str | None = None,
              headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        self.connection.request(method, path, body=body, headers=headers or {})
        answer = self.connection.getresponse()
        answer.read()
        return answer

    def launch(self, *, sub: str, roles: list[str]) -> tuple[float, str]:
        """One launch as ``sub``; (the browser's wait for both answers, the id_token)."""
        platform = self.platform
        started = time.perf_counter()
        login = self._send("GET", "/lti/login?" + urlencode({
            "iss": platform.issuer, "login_hint": sub, "client_id": platform.client_id,
            "target_link_uri": f"{self.base}/lti/launch", "lti_deployment_id": platform.deployment_id}))
        waited = time.perf_counter() - started
        if login.status != 302:
            raise SystemExit(f"FAILED: login answered {login.status}")
        cookies = SimpleCookie()
        for header in login.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        sent = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items()
                         if "/lti/launch".startswith(morsel["path"] or "/"))
        query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
        body = platform.claims(sub=sub, roles=roles)
        body["nonce"] = query["nonce"]
        token = platform.sign(body)
        started = time.perf_counter()
        answer = self._send("POST", "/lti/launch", urlencode({"id_token": token, "state": query["state"]}),
                            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": sent})
        waited += time.perf_counter() - started
        if answer.status != 303:
            raise SystemExit(f"FAILED: launch answered {answer.status}")
        return waited, token
