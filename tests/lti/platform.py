"""A real LTI 1.3 test platform: an RSA key, its JWKS and OIDC endpoints served on 127.0.0.1 by an
HTTP server thread, and id_tokens signed with PyJWT. Not a mock: the tool fetches the keys over HTTP
and verifies real signatures."""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.lti import platform_storage

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER = [ROLE + "Learner"]
INSTRUCTOR = [ROLE + "Instructor"]
ADMINISTRATOR = ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator", ROLE + "Administrator"]


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg="RS256", use="sig")
    return jwk


@dataclass
class TestPlatform:
    """One LMS: issuer = its own base URL; ``users`` maps a login_hint to the claims of that user."""

    __test__ = False

    client_id: str = "tool-client-1"
    deployment_id: str = "deployment-1"
    context_id: str = "565"
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = "platform-key-1"
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwks_fetches: int = 0
    extra_keys: list[dict[str, Any]] = field(default_factory=list)
    registration: dict[str, Any] | None = None
    on_dl_response: Callable[[str], None] | None = None
    base: str = ""
    storage_target: str | None = None
    """Set: the platform offers its client-side storage (lti_storage_target) at login and launch."""

    def start(self) -> TestPlatform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: str, ctype: str = "application/json") -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/jwks":
                    platform.jwks_fetches += 1
                    self._send(200, json.dumps({"keys": [public_jwk(platform.key, platform.kid), *platform.extra_keys]}))
                elif url.path == "/auth":
                    self._send(200, platform.auth_response(query), "text/html")
                elif url.path == "/start":
                    platform.start_launch(self, query)
                elif url.path == "/course":
                    start = "/start?" + urlencode({"user": query.get("user", "")})
                    self._send(200, platform_storage.course_page(start, platform.tool_origin), "text/html")
                elif url.path == "/storage-frame":
                    self._send(200, platform_storage.storage_frame(platform.tool_origin), "text/html")
                elif url.path == "/.well-known/openid-configuration":
                    self._send(200, json.dumps(platform.openid_configuration()))
                else:
                    self._send(404, "{}")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/register":
                    platform.registration = {"auth": self.headers.get("Authorization"), "body": json.loads(body)}
                    self._send(200, json.dumps(platform.registration_answer()))
                elif self.path == "/deep-link-return":
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    if platform.on_dl_response:
                        platform.on_dl_response(form["JWT"])
                    self._send(200, "<p>content item received</p>", "text/html")
                else:
                    self._send(404, "{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def issuer(self) -> str:
        return self.base

    def cli_args(self, source: str | None = None) -> list[str]:
        args = ["platforms", "add", "--issuer", self.issuer, "--client-id", self.client_id,
                "--deployment-id", self.deployment_id, "--auth-login-url", f"{self.base}/auth",
                "--auth-token-url", f"{self.base}/token", "--key-set-url", f"{self.base}/jwks"]
        return args + (["--source", source] if source else [])

    def claims(self, sub: str = "42", roles: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "sub": sub, "iat": now, "exp": now + 300,
            "nonce": secrets.token_urlsafe(8), "name": "Ada Lovelace", "email": "ada@example.org",
            LTI + "version": "1.3.0", LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "deployment_id": self.deployment_id,
            LTI + "roles": LEARNER if roles is None else roles,
            LTI + "resource_link": {"id": "link-1"},
            LTI + "context": {"id": self.context_id, "title": "HIPAA basics"},
            LTI + "target_link_uri": "",
        }
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    def sign(self, body: dict[str, Any], *, kid: str | None = "default", alg: str = "RS256",
             key: Any = None) -> str:
        headers = {} if kid is None else {"kid": self.kid if kid == "default" else kid}
        signing_key = key if key is not None else self.key
        return jwt.encode(body, signing_key, algorithm=alg, headers=headers)

    tool_base: str = ""

    @property
    def tool_origin(self) -> str:
        parts = urlsplit(self.tool_base)
        return f"{parts.scheme}://{parts.netloc}"

    def start_launch(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        """A user clicks the tool in a course: third-party login initiation at the tool."""
        target = f"{self.tool_base}/lti/launch"
        params = {"iss": self.issuer, "login_hint": query["user"], "target_link_uri": target,
                  "client_id": self.client_id, "lti_deployment_id": self.deployment_id}
        if self.storage_target:
            params["lti_storage_target"] = self.storage_target
        location = f"{self.tool_base}/lti/login?" + urlencode(params)
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def auth_response(self, query: dict[str, str]) -> str:
        """The OIDC authorization endpoint: signs an id_token for the hinted user, posts it back."""
        user = self.users.get(query.get("login_hint", ""), {})
        body = self.claims(**user)
        body["nonce"] = query["nonce"]
        token = self.sign(body)
        return (f'<form id="f" method="post" action="{html.escape(query["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{token}">'
                f'<input type="hidden" name="state" value="{html.escape(query["state"])}">'
                + (f'<input type="hidden" name="lti_storage_target" value="{html.escape(self.storage_target)}">'
                   if self.storage_target else "") + '</form>'
                '<script>document.getElementById("f").submit()</script>')

    def registration_answer(self) -> dict[str, Any]:
        """What the registration endpoint answers the tool (LTI-DR 1.0 section 3.6)."""
        return {"client_id": "dyn-client-9",
                "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "dyn-dep-1"}}

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer, "authorization_endpoint": f"{self.base}/auth",
            "token_endpoint": f"{self.base}/token", "jwks_uri": f"{self.base}/jwks",
            "registration_endpoint": f"{self.base}/register",
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "moodle"},
        }
