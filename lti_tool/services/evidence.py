"""The part of a stored LMS event that is one learner's evidence.

Moodle and an LRS post arrays: one body may carry several learners' completions, with their names
and e-mail addresses. An award's evidence keeps only the elements that are this learner's
completion of this course (found by parsing each element as the event endpoint did), with the
SHA-256 of the whole body as received and the number of elements, so an auditor can check the
element against the stored event without seeing anyone else's data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from lti_tool.events.completion import BadEvent, Completion
from lti_tool.events.moodle import parse_moodle
from lti_tool.events.xapi import parse_xapi

ELEMENT_PARSERS = {"moodle": parse_moodle, "xapi": parse_xapi}


def _is_own(element: Any, kind: str, lms_user_id: str, course_id: str) -> bool:
    parse = ELEMENT_PARSERS.get(kind)
    if parse is None:
        return False
    try:
        parsed = parse(json.dumps(element).encode())
    except (BadEvent, ValueError, RecursionError):
        return False
    return any(isinstance(p, Completion) and p.lms_user_id == lms_user_id and p.course_id == course_id
               for p in parsed)


def learner_evidence(body: str, kind: str, lms_user_id: str, course_id: str) -> dict[str, Any]:
    """``{"sha256", "elements", "body"}``: ``body`` is the event as received when it holds one
    element, else the list of this learner's elements of it."""
    digest = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, list):
        return {"sha256": digest, "elements": 1, "body": body}
    own = [element for element in data if _is_own(element, kind, lms_user_id, course_id)]
    return {"sha256": digest, "elements": len(data), "body": own}
