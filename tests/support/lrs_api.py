"""A loopback stand-in for an xAPI LRS's statements resource (xAPI 1.0.3).

``GET /xapi/statements`` with HTTP Basic credentials and ``X-Experience-API-Version``; filters
``verb`` and ``since`` (exclusive, on ``stored``); answers a StatementResult ``{"statements": [...],
"more": "<relative IRL>"}``, ``more`` being ``""`` on the last page.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def statement(user: str, activity: str, stored: str, *, duration: str | None = None,
              verb: str = COMPLETED) -> dict[str, Any]:
    result = {"completion": True, **({"duration": duration} if duration else {})}
    return {"id": secrets.token_hex(16), "actor": {"objectType": "Agent", "name": f"Learner {user}",
                                                  "account": {"homePage": "https://lms.example", "name": user}},
            "verb": {"id": verb, "display": {"en-US": "completed"}},
            "object": {"objectType": "Activity", "id": activity,
                       "definition": {"name": {"en-US": "HIPAA refresher"}}},
            "result": result, "timestamp": stored, "stored": stored, "version": "1.0.0"}


@dataclass
class LrsState:
    key: str
    secret: str
    statements: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    queries: list[dict[str, str]] = field(default_factory=list)
    pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def lrs_handler(state: LrsState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Experience-API-Version", "1.0.3")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            expected = "Basic " + base64.b64encode(f"{state.key}:{state.secret}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._answer(401, {"error": "unauthorized"})
            if not self.headers.get("X-Experience-API-Version", "").startswith("1.0"):
                return self._answer(400, {"error": "X-Experience-API-Version header missing"})
            parts = urlsplit(self.path)
            if parts.path.startswith("/xapi/statements/more/"):
                rest = state.pending.pop(parts.path.rsplit("/", 1)[1], None)
                if rest is None:
                    return self._answer(404, {"error": "no such more link"})
                return self._page(rest)
            if parts.path != "/xapi/statements":
                return self._answer(404, {"error": "not found"})
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            state.queries.append(query)
            rows = [s for s in state.statements if s["verb"]["id"] == query.get("verb", s["verb"]["id"])]
            if "since" in query:
                rows = [s for s in rows if _when(s["stored"]) > _when(query["since"])]
            rows.sort(key=lambda s: _when(s["stored"]), reverse=query.get("ascending") != "true")
            return self._page(rows)

        def _page(self, rows: list[dict[str, Any]]) -> None:
            more = ""
            if len(rows) > state.page_size:
                handle = secrets.token_hex(8)
                state.pending[handle] = rows[state.page_size:]
                more = f"/xapi/statements/more/{handle}"
            return self._answer(200, {"statements": rows[: state.page_size], "more": more})

    return Handler
