"""A loopback stand-in for Canvas's REST API, answering as Canvas documents it.

- ``GET /api/v1/courses/:id/bulk_user_progress``: a JSON array of users, each with ``progress``
  (``requirement_count``, ``requirement_completed_count``, ``next_requirement_url``, ``completed_at``);
  paged by ``page``/``per_page`` (default 10, at most 100) with a ``Link`` header naming
  ``current``, ``next``, ``first`` and ``last``.
- ``Authorization: Bearer <token>``; a missing, unknown or expired token is ``401`` with
  ``WWW-Authenticate: Bearer realm="canvas-lms"`` and ``{"errors": [{"message": "Invalid access token."}]}``.
- Throttling: ``403 Forbidden (Rate Limit Exceeded)`` with ``X-Rate-Limit-Remaining: 0.0``, or 429;
  every answer carries ``X-Rate-Limit-Remaining`` and ``X-Request-Cost``.
- ``POST /login/oauth2/token`` with ``grant_type=refresh_token``: a new access token valid
  ``expires_in`` seconds (3600), or ``400 {"error": "invalid_grant", ...}``.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit


def progress_row(user_id: int, name: str, completed_at: str | None) -> dict[str, Any]:
    return {"id": user_id, "display_name": name, "avatar_image_url": "https://canvas.example/images/messages/avatar-50.png",
            "html_url": f"https://canvas.example/courses/1/users/{user_id}", "pronouns": None,
            "progress": {"requirement_count": 4, "requirement_completed_count": 4 if completed_at else 2,
                         "next_requirement_url": None if completed_at else "https://canvas.example/courses/1/modules/items/9",
                         "completed_at": completed_at}}


@dataclass
class CanvasState:
    courses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    """Courses the token's user may not see grades of."""
    tokens: set[str] = field(default_factory=set)
    expired: set[str] = field(default_factory=set)
    client_id: str = "10000000000001"
    client_secret: str = ""
    refresh_token: str = ""
    throttle: list[int] = field(default_factory=list)
    """Statuses (403 or 429) to answer, one per request, before answering normally again."""
    retry_after: str | None = None
    hang_seconds: float = 0.0
    released: threading.Event = field(default_factory=threading.Event)
    """Set when the test is over: a hanging answer stops waiting (so it never outlives its test)."""
    requests: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def canvas_handler(state: CanvasState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any, **headers: str) -> None:
            if getattr(self, "counted", False):  # done before the client can read the answer and ask again
                self.counted = False
                with state.lock:
                    state.in_flight -= 1
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8" if not isinstance(body, bytes)
                             else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Request-Cost", "0.0125")
            self.send_header("X-Rate-Limit-Remaining", headers.pop("remaining", "699.98"))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - the http.server interface
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            with state.lock:
                state.requests.append(f"POST {self.path}")
            if urlsplit(self.path).path != "/login/oauth2/token":
                return self._answer(404, {"errors": [{"message": "The specified resource does not exist."}]})
            if form.get("grant_type") != "refresh_token" or form.get("client_id") != state.client_id \
                    or form.get("client_secret") != state.client_secret:
                return self._answer(401, {"error": "invalid_client", "error_description": "unknown client"})
            if form.get("refresh_token") != state.refresh_token:
                return self._answer(400, {"error": "invalid_grant", "error_description": "refresh_token not found"})
            token = "7~" + secrets.token_urlsafe(16)
            state.tokens.add(token)
            return self._answer(200, {"access_token": token, "token_type": "Bearer",
                                      "user": {"id": 42, "name": "Reconciler"}, "expires_in": 3600})

        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            with state.lock:
                state.requests.append(f"GET {self.path}")
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            self.counted = True
            self._get()

        def _get(self) -> None:
            if state.hang_seconds:
                state.released.wait(state.hang_seconds)
            with state.lock:
                throttled = state.throttle.pop(0) if state.throttle else None
            if throttled == 403:
                return self._answer(403, b"403 Forbidden (Rate Limit Exceeded)", remaining="0.0")
            if throttled == 429:
                extra = {"Retry_After": state.retry_after} if state.retry_after else {}
                return self._answer(429, {"errors": [{"message": "Rate Limit Exceeded"}]}, remaining="0.0", **extra)
            token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if token not in state.tokens or token in state.expired:
                return self._answer(401, {"errors": [{"message": "Invalid access token."}]},
                                    WWW_Authenticate='Bearer realm="canvas-lms"')
            parts = urlsplit(self.path)
            segments = parts.path.strip("/").split("/")
            if len(segments) != 5 or segments[:3] != ["api", "v1", "courses"] or segments[4] != "bulk_user_progress":
                return self._answer(404, {"errors": [{"message": "The specified resource does not exist."}]})
            rows = state.courses.get(segments[3])
            if rows is None:
                return self._answer(404, {"errors": [{"message": "The specified resource does not exist."}]})
            if segments[3] in state.forbidden:
                return self._answer(403, {"status": "unauthorized",
                                          "errors": [{"message": "user not authorized to perform that action"}]})
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            per_page = min(max(int(query.get("per_page", 10)), 1), 100)
            page = max(int(query.get("page", 1)), 1)
            last = max((len(rows) + per_page - 1) // per_page, 1)
            base = f"http://{self.headers['Host']}{parts.path}"
            links = [f'<{base}?page={page}&per_page={per_page}>; rel="current"']
            if page < last:
                links.append(f'<{base}?page={page + 1}&per_page={per_page}>; rel="next"')
            links += [f'<{base}?page=1&per_page={per_page}>; rel="first"',
                      f'<{base}?page={last}&per_page={per_page}>; rel="last"']
            return self._answer(200, rows[(page - 1) * per_page: page * per_page], Link=",".join(links))

    return Handler
