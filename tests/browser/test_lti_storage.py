"""Login CSRF, in headless Chromium against the real server process: a course page of the test LMS
frames the tool beside its storage frame (lti.capabilities, lti.put_data, lti.get_data). A launch
whose state cookie the browser does not send goes through the platform's storage and opens the tool;
an attacker's own login, posted from the attacker's site into a victim's browser, is refused."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tests.lti.platform import TestPlatform
from tests.lti.platform_storage import STORAGE_FRAME
from tests.support.loopback import serve

STATE_COOKIE = "lti_tool_state"


def launch_statuses(page: Any) -> list[int]:
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith("/lti/launch") else None)
    return statuses


def test_a_launch_without_the_state_cookie_goes_through_the_platforms_storage(
    browser: Any, lms: tuple[TestPlatform, str], server: str
) -> None:
    platform, _ = lms
    platform.storage_target = STORAGE_FRAME
    context = browser.new_context()
    page = context.new_page()

    def drop_state_cookie(route: Any) -> None:  # as a browser that blocks the iframe's cookie
        context.clear_cookies(name=STATE_COOKIE)
        route.continue_()

    page.route(f"{server}/lti/launch", drop_state_cookie)
    statuses = launch_statuses(page)
    page.goto(f"{platform.base}/course?user=learner")
    tool = page.frame_locator("#tool")
    tool.locator("h1:has-text('Your continuing-education credit')").wait_for(timeout=15000)
    assert statuses == [200, 303], "the storage page first, then the launch it confirmed"
    storage = page.frame(name=STORAGE_FRAME)
    assert storage is not None and storage.evaluate("window.ltiStorageWrites") == 1


@contextmanager
def attacker_site(fields: dict[str, str], action: str) -> Iterator[str]:
    """The attacker's page: a form that posts ``fields`` to the tool as soon as it loads."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    body = (f'<form id="f" method="post" action="{html.escape(action)}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script>').encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve(Handler) as base:
        yield base.replace("127.0.0.1", "localhost")  # another site than the tool's 127.0.0.1


def attackers_login(platform: TestPlatform, server: str) -> dict[str, str]:
    """The attacker's own login, in the attacker's own client: id_token, state and the proof shown."""
    page = requests.get(f"{server}/lti/login", timeout=10, allow_redirects=False, params={
        "iss": platform.issuer, "login_hint": "attacker", "client_id": platform.client_id,
        "lti_storage_target": STORAGE_FRAME}).text
    found = dict(re.findall(r'(data-next|data-value)="([^"]*)"', page))
    auth = {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(found["data-next"])).query).items()}
    claims = platform.claims(**{**platform.users["learner"], "sub": "lti-attacker", "name": "Mallory"})
    claims["nonce"] = auth["nonce"]
    return {"id_token": platform.sign(claims), "state": auth["state"], "proof": html.unescape(found["data-value"])}


def test_an_attackers_launch_posted_from_another_site_is_refused(
    browser: Any, lms: tuple[TestPlatform, str], server: str
) -> None:
    platform, _ = lms
    forged = attackers_login(platform, server)
    victim = browser.new_context().new_page()
    statuses = launch_statuses(victim)
    fields = {"id_token": forged["id_token"], "state": forged["state"]}
    with attacker_site(fields, f"{server}/lti/launch") as evil:
        victim.goto(evil)
        victim.wait_for_selector("h1:has-text('The tool cannot be opened')", timeout=15000)
    assert statuses == [200, 401], "the storage page finds no platform storage; the tool refuses"
    assert "no record of this login" in victim.inner_text("main")
    assert victim.goto(f"{server}/lti/home").status == 401, "the victim is not signed in as the attacker"


def test_an_attackers_launch_with_their_own_storage_proof_is_refused(
    browser: Any, lms: tuple[TestPlatform, str], server: str
) -> None:
    platform, _ = lms
    forged = attackers_login(platform, server)
    victim = browser.new_context().new_page()
    statuses = launch_statuses(victim)
    fields = {"id_token": forged["id_token"], "state": forged["state"], "lti_storage_value": forged["proof"]}
    with attacker_site(fields, f"{server}/lti/launch") as evil:
        victim.goto(evil)
        victim.wait_for_selector("h1:has-text('The tool cannot be opened')", timeout=15000)
    assert statuses == [403]
    assert victim.goto(f"{server}/lti/home").status == 401
