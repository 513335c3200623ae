"""Canvas REST API: ``GET /api/v1/courses/:id/bulk_user_progress``, paged by the ``Link`` header.

A user whose ``progress.completed_at`` is set completed the course; ``id`` is the same local id Live
Events carry in ``body.user.id`` (an integer here, a string there: both become the same text).
Throttling: Canvas answers 403 ``Rate Limit Exceeded`` (with ``X-Rate-Limit-Remaining``) or 429;
the client waits (``Retry-After`` if given, else doubling) and asks again. Authentication is a
token, or an OAuth2 developer key whose access tokens (an hour long) are refreshed with the
refresh token, kept in this process's memory only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from lti_tool.events.completion import BadEvent, Completion
from lti_tool.events.wire import as_id, as_utc
from lti_tool.exports.https import retry_after
from lti_tool.pull.found import Found, Page
from lti_tool.pull.http import Answer, LmsHttp, PullError
from lti_tool.pull.secrets import require_secret

log = logging.getLogger(__name__)

PER_PAGE = 100


@dataclass(frozen=True)
class Throttle:
    attempts: int = 5
    """Throttled answers in a row before the course is given up until the next run."""
    first_wait_seconds: float = 1.0
    max_wait_seconds: float = 60.0


_access_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_access_lock = threading.Lock()
REFRESH_MARGIN_SECONDS = 60.0


class CanvasClient:
    per_course = True

    def __init__(self, http: LmsHttp, api_url: str, auth: dict[str, Any], *, throttle: Throttle | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http, self.api_url, self.auth = http, api_url.rstrip("/"), auth
        self.throttle = throttle or Throttle()
        self._sleep = sleep

    def pull(self, course_id: str | None, *, known: Mapping[str, datetime], since: datetime | None) -> Iterator[Page]:
        assert course_id is not None
        url: str | None = (f"{self.api_url}/api/v1/courses/{quote(course_id, safe='')}/bulk_user_progress"
                           f"?per_page={PER_PAGE}")
        while url:
            answer = self._get(url, course_id)
            rows = answer.json()
            if not isinstance(rows, list):
                raise PullError(f"course {course_id}: bulk_user_progress did not answer a list")
            yield Page(users_checked=len(rows), found=[f for f in (self._found(r, course_id) for r in rows) if f])
            url = answer.links.get("next", {}).get("url")

    def _found(self, row: Any, course_id: str) -> Found | None:
        progress = row.get("progress") if isinstance(row, dict) else None
        when = progress.get("completed_at") if isinstance(progress, dict) else None
        if not when:
            return None
        try:
            completion = Completion(lms_user_id=as_id(row.get("id"), "id"), course_id=course_id,
                                    completed_at=as_utc(when, "progress.completed_at"),
                                    learner_name=row.get("display_name") or row.get("name"), once_per_course=True)
        except BadEvent as exc:
            log.warning("canvas course %s: a progress row was skipped: %s", course_id, exc)
            return None
        return Found(completion, {"source": "canvas bulk_user_progress", "course_id": course_id, "user": row})

    def _get(self, url: str, course_id: str) -> Answer:
        refreshed = False
        for attempt in range(self.throttle.attempts + 1):
            token = self._token(force=False)
            answer = self.http.request("GET", url, token=token, headers={"Authorization": f"Bearer {token}",
                                                                         "Accept": "application/json"})
            if answer.status == 200:
                return answer
            if _throttled(answer):
                if attempt == self.throttle.attempts:
                    break
                wait = retry_after(answer.headers.get("Retry-After"))
                wait = min(wait if wait is not None else self.throttle.first_wait_seconds * 2 ** attempt,
                           self.throttle.max_wait_seconds)
                log.info("canvas throttled (HTTP %s, X-Rate-Limit-Remaining %s): waiting %.1f s", answer.status,
                         answer.headers.get("X-Rate-Limit-Remaining"), wait)
                self._sleep(wait)
                continue
            if answer.status == 401 and "client_id" in self.auth and not refreshed:
                self._token(force=True)
                refreshed = True
                continue
            raise _refusal(answer, course_id)
        raise PullError(f"course {course_id}: still throttled after {self.throttle.attempts} waits")

    def _token(self, *, force: bool) -> str:
        if "client_id" not in self.auth:
            return require_secret(self.auth, "token")
        key = (self.api_url, str(self.auth["client_id"]))
        with _access_lock:
            cached = _access_tokens.get(key)
            if cached and not force and cached[1] > time.monotonic():
                return cached[0]
            token, lifetime = self._refresh()
            _access_tokens[key] = (token, time.monotonic() + max(lifetime - REFRESH_MARGIN_SECONDS, 0.0))
            return token

    def _refresh(self) -> tuple[str, float]:
        """``POST /login/oauth2/token`` with ``grant_type=refresh_token``: a new access token."""
        secret = require_secret(self.auth, "client_secret")
        refresh = require_secret(self.auth, "refresh_token")
        answer = self.http.request("POST", f"{self.api_url}/login/oauth2/token", token=refresh, data={
            "grant_type": "refresh_token", "client_id": self.auth["client_id"], "client_secret": secret,
            "refresh_token": refresh})
        body = answer.json() if answer.body else {}
        if answer.status != 200 or not isinstance(body, dict) or not body.get("access_token"):
            reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise PullError(f"canvas refused to refresh the access token (HTTP {answer.status}"
                            f"{': ' + str(reason) if reason else ''})", scope="source")
        log.info("canvas access token refreshed for developer key %s", self.auth["client_id"])
        return str(body["access_token"]), float(body.get("expires_in") or 3600)


def _throttled(answer: Answer) -> bool:
    if answer.status == 429:
        return True
    return answer.status == 403 and (b"Rate Limit Exceeded" in answer.body
                                     or answer.headers.get("X-Rate-Limit-Remaining") in ("0", "0.0"))


def _refusal(answer: Answer, course_id: str) -> PullError:
    message = _canvas_message(answer)
    if answer.status == 401:
        return PullError(f"canvas refused the token (HTTP 401{': ' + message if message else ''})", scope="source")
    if answer.status >= 500:
        return PullError(f"canvas answered HTTP {answer.status}", scope="source")
    if answer.status == 404:
        return PullError(f"course {course_id}: not found in canvas (HTTP 404)")
    return PullError(f"course {course_id}: canvas answered HTTP {answer.status}{': ' + message if message else ''}")


def _canvas_message(answer: Answer) -> str:
    """Canvas's ``{"errors": [{"message": ...}]}``, when the body has it."""
    try:
        errors = answer.json().get("errors")
        return "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))[:200]
    except (PullError, AttributeError, TypeError):
        return ""
