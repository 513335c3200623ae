"""Moodle web services (REST protocol, ``moodlewsrestformat=json``, a token).

``core_enrol_get_enrolled_users`` lists the course's users (paged with ``limitfrom``/``limitnumber``),
then ``core_completion_get_course_completion_status`` is asked per user, except a user the tool
knows as completed who has not been in the course since (``lastcourseaccess`` no later than that
completion): a learner who retakes the course after a reset goes back into it, so a retake whose
push was lost is still found. A completed status credits with the latest criterion ``timecompleted``.

Moodle answers errors with HTTP 200 and an ``exception`` object: ``invalidtoken`` and
``accessexception`` (the token or the service's functions) stop the source, ``nocriteriaset``
(the course tracks no completion) stops the course, ``usernotenroled`` (the user left between the
two calls) skips the user.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from lti_tool.events.completion import BadEvent, Completion
from lti_tool.events.wire import as_id, as_utc
from lti_tool.pull.found import Found, Page
from lti_tool.pull.http import LmsHttp, PullError
from lti_tool.pull.secrets import require_secret

log = logging.getLogger(__name__)

PAGE_SIZE = 200
SOURCE_ERRORS = frozenset({"invalidtoken", "accessexception", "servicerequireslogin", "webservicesnotenabled",
                           "sitemaintenance"})
"""Error codes that stop asking this Moodle in this run; any other stops the course only."""


class _UserGone(Exception):
    pass


class MoodleClient:
    per_course = True

    def __init__(self, http: LmsHttp, api_url: str, auth: dict[str, Any]) -> None:
        self.http, self.auth = http, auth
        self.endpoint = f"{api_url.rstrip('/')}/webservice/rest/server.php"

    def pull(self, course_id: str | None, *, known: Mapping[str, datetime], since: datetime | None) -> Iterator[Page]:
        assert course_id is not None
        offset = 0
        while True:
            users = self._call("core_enrol_get_enrolled_users", course_id, {
                "courseid": course_id,
                "options[0][name]": "limitfrom", "options[0][value]": offset,
                "options[1][name]": "limitnumber", "options[1][value]": PAGE_SIZE})
            if not isinstance(users, list):
                raise PullError(f"course {course_id}: core_enrol_get_enrolled_users did not answer a list")
            page = Page(users_checked=len(users))
            for user in users:
                user_id = str(user.get("id")) if isinstance(user, dict) else ""
                if user_id in known and not _back_since(user, known[user_id]):
                    page.known += 1
                    continue
                found = self._status(course_id, user)
                if found is not None:
                    page.found.append(found)
            yield page
            if len(users) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def _status(self, course_id: str, user: dict[str, Any]) -> Found | None:
        try:
            answer = self._call("core_completion_get_course_completion_status", course_id,
                                {"courseid": course_id, "userid": user.get("id")})
        except _UserGone:
            return None
        status = answer.get("completionstatus") if isinstance(answer, dict) else None
        if not isinstance(status, dict) or not status.get("completed"):
            return None
        criteria = [c for c in status.get("completions") or [] if isinstance(c, dict)]
        times: list[int] = [c["timecompleted"] for c in criteria
                            if isinstance(c.get("timecompleted"), int) and c["timecompleted"] > 0]
        if not times:
            log.warning("moodle course %s user %s: completed, but no criterion has a timecompleted; skipped",
                        course_id, user.get("id"))
            return None
        try:
            completion = Completion(lms_user_id=as_id(user.get("id"), "id"), course_id=course_id,
                                    completed_at=as_utc(max(times), "timecompleted"),
                                    learner_name=user.get("fullname"), learner_email=user.get("email"))
        except BadEvent as exc:
            log.warning("moodle course %s: a user was skipped: %s", course_id, exc)
            return None
        return Found(completion, {"source": "moodle core_completion_get_course_completion_status",
                                  "course_id": course_id, "user_id": user.get("id"), "completionstatus": status})

    def _call(self, function: str, course_id: str, params: dict[str, Any]) -> Any:
        token = require_secret(self.auth, "token")
        answer = self.http.request("POST", self.endpoint, token=token, data={
            "wstoken": token, "wsfunction": function, "moodlewsrestformat": "json", **params})
        if answer.status != 200:
            raise PullError(f"moodle answered HTTP {answer.status} to {function}", scope="source")
        body = answer.json()
        if isinstance(body, dict) and "exception" in body:
            code = str(body.get("errorcode") or body.get("exception"))
            message = f"{function}: {code}: {str(body.get('message') or '')[:200]}"
            if code == "usernotenroled":
                raise _UserGone
            if code in SOURCE_ERRORS:
                raise PullError(f"moodle refused {message}", scope="source")
            raise PullError(f"course {course_id}: moodle {message}")
        return body


def _back_since(user: Any, completed: datetime) -> bool:
    """Whether the user has been in the course after the completion the tool knows (or Moodle does
    not say when they last were): then they may have completed it again, and are asked."""
    last = user.get("lastcourseaccess") if isinstance(user, dict) else None
    if not isinstance(last, int) or isinstance(last, bool):
        return True
    return last > completed.timestamp()
