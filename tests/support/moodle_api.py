"""A loopback stand-in for Moodle's web services (REST protocol), answering as Moodle does.

``POST /webservice/rest/server.php`` with ``wstoken``, ``wsfunction`` and ``moodlewsrestformat=json``.
Every error is HTTP 200 with ``{"exception": ..., "errorcode": ..., "message": ...}``: ``invalidtoken``,
``accessexception`` (function not in the service), ``invalidrecord`` (no such course),
``nocriteriaset`` (no completion criteria) and ``usernotenroled``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

FUNCTIONS = ("core_enrol_get_enrolled_users", "core_completion_get_course_completion_status")


def moodle_user(user_id: int, first: str, last: str) -> dict[str, Any]:
    return {"id": user_id, "username": f"{first.lower()}{user_id}", "firstname": first, "lastname": last,
            "fullname": f"{first} {last}", "email": f"{first.lower()}@clinic.example", "department": "",
            "firstaccess": 1699000000, "lastaccess": 1700000000, "lastcourseaccess": 1700000000,
            "description": "", "descriptionformat": 1, "profileimageurlsmall": "", "profileimageurl": "",
            "roles": [{"roleid": 5, "name": "", "shortname": "student", "sortorder": 0}],
            "enrolledcourses": []}


@dataclass
class MoodleCourse:
    users: list[dict[str, Any]]
    completed: dict[int, list[int | None]] = field(default_factory=dict)
    """User id -> each criterion's ``timecompleted`` (``None`` for a criterion not met)."""
    criteria: bool = True
    gone: set[int] = field(default_factory=set)
    """Users listed as enrolled who have left by the time their status is asked."""


@dataclass
class MoodleState:
    token: str
    courses: dict[str, MoodleCourse] = field(default_factory=dict)
    enabled: tuple[str, ...] = FUNCTIONS
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(exception: str, code: str, message: str) -> dict[str, Any]:
    return {"exception": exception, "errorcode": code, "message": message}


def moodle_handler(state: MoodleState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - the http.server interface
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            with state.lock:
                state.calls.append((form.get("wsfunction", ""), form))
            body = self._answer(form) if self.path.split("?")[0] == "/webservice/rest/server.php" else None
            data = json.dumps(body).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _answer(self, form: dict[str, str]) -> Any:
            if form.get("wstoken") != state.token:
                return _error("moodle_exception", "invalidtoken", "Invalid token - token not found")
            function = form.get("wsfunction", "")
            if function not in state.enabled:
                return _error("webservice_access_exception", "accessexception", "Access control exception")
            course = state.courses.get(form.get("courseid", ""))
            if course is None:
                return _error("dml_missing_record_exception", "invalidrecord",
                              "Can't find data record in database table course.")
            if function == "core_enrol_get_enrolled_users":
                options = {form.get(f"options[{i}][name]"): form.get(f"options[{i}][value]") for i in range(8)}
                start = int(options.get("limitfrom") or 0)
                number = int(options.get("limitnumber") or 0)
                return course.users[start: start + number] if number else course.users[start:]
            user_id = int(form.get("userid", "0"))
            if user_id in course.gone or user_id not in {u["id"] for u in course.users}:
                return _error("moodle_exception", "usernotenroled", "User is not enrolled in this course")
            if not course.criteria:
                return _error("moodle_exception", "nocriteriaset", "No completion criteria set for this course")
            times = course.completed.get(user_id, [None])
            return {"completionstatus": {
                "completed": user_id in course.completed and all(t is not None for t in times), "aggregation": 1,
                "completions": [{"type": 4, "title": "Activity completion", "status": "Yes" if t else "No",
                                 "complete": t is not None, "timecompleted": t,
                                 "details": {"type": "Activity completion", "criteria": f"Quiz {i + 1}",
                                             "requirement": "Receive a grade", "status": ""}}
                                for i, t in enumerate(times)]},
                "warnings": []}

    return Handler
