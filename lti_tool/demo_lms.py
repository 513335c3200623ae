"""The demo LMS of ``make demo``: one page on 127.0.0.1 that opens the tool as an administrator, an
instructor or a learner of a sample Canvas course, each a real LTI 1.3 launch (third-party login
initiation, the OIDC authorization request, an RS256-signed id_token checked by the tool against
this LMS's JWKS), and posts a sample completion event for the learner.

Demo only: ``lti_tool.demo`` starts it; nothing in ``lti-tool serve`` or the settings refers to it.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ADMINISTRATOR = ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
                 ROLE + "Administrator"]
COURSE = "565"
COURSE_TITLE = "HIPAA for the front office"
LEARNER_ID = "123"
LEARNER_NAME = "Isaac Newton"
CLIENT_ID = "demo-lms-client"
DEPLOYMENT_ID = "demo-deployment"
KID = "demo-lms-key"


@dataclass(frozen=True)
class DemoUser:
    hint: str
    label: str
    name: str
    canvas_user_id: str
    roles: list[str]


USERS = (
    DemoUser("admin", "administrator", "Grace Hopper (course administrator)", "9", ADMINISTRATOR),
    DemoUser("teacher", "instructor", "Florence Nightingale (instructor)", "8", [ROLE + "Instructor"]),
    DemoUser("learner", "learner", f"{LEARNER_NAME} (medical assistant)", LEARNER_ID, [ROLE + "Learner"]),
)


def canvas_completion(user: str, name: str, course: str, course_name: str, completed_at: datetime) -> dict[str, Any]:
    """A Canvas Live Events ``course_completed`` envelope, shaped as Canvas sends it."""
    stamp = completed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "metadata": {"event_name": "course_completed", "event_time": stamp, "producer": "canvas",
                     "context_type": "Course", "context_id": course, "user_id": user},
        "body": {"course": {"id": course, "name": course_name},
                 "progress": {"completed_at": stamp, "requirement_completed_count": 6, "requirement_count": 6},
                 "user": {"id": user, "name": name, "email": f"{name.split()[0].lower()}@example.org"}},
    }


@dataclass
class DemoLms:
    """The LMS: bind first (``base`` is then known for the tool's platform registration), then
    ``serve()`` once the tool is up."""

    tool_base: str
    event_url: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    message: str = ""

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer((self.host, self.port), self._handler())
        self.base = f"http://{self.host}:{self.server.server_address[1]}"

    @property
    def issuer(self) -> str:
        return self.base

    def platform_fields(self) -> dict[str, Any]:
        """What ``lti_tool.lti.platforms.add_platform`` needs to register this LMS."""
        return {"issuer": self.issuer, "client_id": CLIENT_ID, "deployment_ids": [DEPLOYMENT_ID],
                "auth_login_url": f"{self.base}/auth", "auth_token_url": f"{self.base}/token",
                "key_set_url": f"{self.base}/jwks", "name": "Demo LMS"}

    def serve(self) -> DemoLms:
        threading.Thread(target=self.server.serve_forever, daemon=True, name="demo-lms").start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=KID, alg="RS256", use="sig")
        return {"keys": [jwk]}

    def login_url(self, hint: str) -> str:
        """Third-party initiated login: where the LMS sends the browser when a user opens the tool."""
        return f"{self.tool_base}/lti/login?" + urlencode({
            "iss": self.issuer, "login_hint": hint, "target_link_uri": f"{self.tool_base}/lti/launch",
            "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT_ID})

    def id_token(self, hint: str, nonce: str) -> str:
        user = next((u for u in USERS if u.hint == hint), None)
        if user is None:
            raise KeyError(hint)
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": CLIENT_ID, "sub": f"demo-{user.hint}", "iat": now, "exp": now + 300,
            "nonce": nonce, "name": user.name.split(" (")[0], "email": f"{user.hint}@example.org",
            LTI + "version": "1.3.0", LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "deployment_id": DEPLOYMENT_ID, LTI + "roles": user.roles,
            LTI + "resource_link": {"id": "demo-link-1", "title": "Continuing-education credit"},
            LTI + "context": {"id": f"demo-context-{COURSE}", "title": COURSE_TITLE},
            LTI + "target_link_uri": f"{self.tool_base}/lti/launch",
            LTI + "custom": {"canvas_user_id": user.canvas_user_id, "canvas_course_id": COURSE},
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})

    def post_sample_completion(self) -> str:
        """The learner completes the course: the LMS posts the Live Event to the tool's event URL."""
        event = canvas_completion(LEARNER_ID, LEARNER_NAME, COURSE, COURSE_TITLE, datetime.now(UTC))
        request = urllib.request.Request(self.event_url, data=json.dumps(event).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            answer = {"status": f"HTTP {exc.code}"}
        except OSError as exc:
            answer = {"status": f"not delivered ({exc})"}
        return (f"Sample completion of course {COURSE} sent for {LEARNER_NAME}: "
                f"the tool answered “{answer.get('status')}”.")

    def page(self) -> str:
        buttons = "".join(
            f'<li><a class="button" href="/open?user={u.hint}" target="tool">Open as {u.label}</a>'
            f' <span class="who">{html.escape(u.name)}</span></li>' for u in USERS)
        note = f'<p role="status" class="ok">{html.escape(self.message)}</p>' if self.message else ""
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Demo LMS: {COURSE_TITLE}</title>
<style>
body {{ margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; background: #f5f5f5; }}
header {{ background: #2d3b45; color: #fff; padding: .75rem 1rem; }} header h1 {{ margin: 0; font-size: 1.25rem; }}
.layout {{ display: flex; flex-wrap: wrap; gap: 1rem; padding: 1rem; }}
aside {{ flex: 1 1 16rem; max-width: 22rem; background: #fff; padding: 1rem; border: 1px solid #c7cdd1; }}
aside ul {{ list-style: none; padding: 0; }} aside li {{ margin: 0 0 .75rem; }}
.button, button {{ display: inline-block; background: #0b5394; color: #fff; padding: .45rem .8rem; border: 0;
  border-radius: 4px; text-decoration: none; font: inherit; cursor: pointer; }}
.who {{ display: block; font-size: .875rem; color: #4a4a4a; }}
a:focus-visible, button:focus-visible {{ outline: 3px solid #f4b400; outline-offset: 2px; }}
.ok {{ color: #1e5e20; font-weight: 600; }}
iframe {{ flex: 3 1 22rem; min-height: 42rem; border: 1px solid #c7cdd1; background: #fff; width: 100%; }}
</style></head><body>
<header><h1>Demo LMS · course {COURSE}: {COURSE_TITLE}</h1></header>
<div class="layout"><aside aria-label="Demo controls">
<p>Each button is a real LTI 1.3 launch of the tool into the frame beside it.</p>
<ul>{buttons}</ul>
<form method="post" action="/complete"><button type="submit">Post a sample completion for {LEARNER_NAME}</button></form>
{note}
<p>Then open as learner again to see the new credit.</p>
</aside>
<iframe name="tool" title="The credit tool" src="/open?user=learner"></iframe></div>
</body></html>"""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        lms = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: str, ctype: str = "text/html; charset=utf-8") -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def _redirect(self, location: str) -> None:
                self.send_response(303)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/":
                    self._send(200, lms.page())
                elif url.path == "/jwks":
                    self._send(200, json.dumps(lms.jwks()), "application/json")
                elif url.path == "/open" and query.get("user") in {u.hint for u in USERS}:
                    self._redirect(lms.login_url(query["user"]))
                elif url.path == "/auth":
                    self._authorize(query)
                else:
                    self._send(404, "<p>not found</p>")

            def _authorize(self, query: dict[str, str]) -> None:
                """The OIDC authorization endpoint: an auto-submitted form posting the id_token back."""
                redirect = query.get("redirect_uri", "")
                if not redirect.startswith(lms.tool_base + "/") or query.get("client_id") != CLIENT_ID:
                    self._send(400, "<p>unknown client or redirect_uri</p>")
                    return
                try:
                    token = lms.id_token(query.get("login_hint", ""), query.get("nonce") or secrets.token_urlsafe(8))
                except KeyError:
                    self._send(400, "<p>unknown user</p>")
                    return
                self._send(200, '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                           '<title>Signing in</title></head><body>'
                           f'<form id="f" method="post" action="{html.escape(redirect)}">'
                           f'<input type="hidden" name="id_token" value="{token}">'
                           f'<input type="hidden" name="state" value="{html.escape(query.get("state", ""))}">'
                           '<noscript><button type="submit">Continue</button></noscript></form>'
                           '<script>document.getElementById("f").submit()</script></body></html>')

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/complete":
                    lms.message = lms.post_sample_completion()
                    self._redirect("/")
                else:
                    self._send(404, "<p>not found</p>")

        return Handler
