"""Who a launch is, in the terms the LMS's events use, so credit earned before the first launch shows.

Moodle's ``sub`` is its user id, which its events name. Canvas's ``sub`` is an opaque LTI id, so the
tool asks Canvas for ``$Canvas.user.id`` as the custom parameter ``canvas_user_id`` (see
``/lti/canvas.json``), which is what Canvas Live Events name. A learner is keyed like
:class:`lti_tool.models.Learner`: (the source's identity id, LMS user id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.db import insert_or_skip
from lti_tool.lti import claims as c
from lti_tool.lti.tokens import LaunchRejected


def lms_user_id(session: Session, platform: models.Platform, body: dict[str, Any]) -> str:
    custom = body.get(c.CUSTOM) or {}
    canvas_id = custom.get(c.CANVAS_USER_ID) if isinstance(custom, dict) else None
    source = session.get(models.Source, platform.source_id) if platform.source_id else None
    if canvas_id is not None and str(canvas_id).strip() and not str(canvas_id).startswith("$"):
        return str(canvas_id)
    if source is not None and source.kind == "canvas":
        raise LaunchRejected(
            "Canvas did not send the custom parameter canvas_user_id=$Canvas.user.id; "
            "add it to the tool's developer key (see /lti/canvas.json)")
    return str(body["sub"])


def record_learner(session: Session, platform: models.Platform, user: str, body: dict[str, Any]) -> None:
    """Create the learner if the platform shares an event source; keep the name and email fresh."""
    if platform.source_id is None:
        return
    source = session.get(models.Source, platform.source_id)
    assert source is not None
    insert_or_skip(session, models.Learner.__table__,
                   {"source_id": source.identity_id, "lms_user_id": user, "created_at": models.utcnow()},
                   ["source_id", "lms_user_id"])
    learner = session.scalar(select(models.Learner).where(
        models.Learner.source_id == source.identity_id, models.Learner.lms_user_id == user))
    assert learner is not None
    name = body.get("name") or " ".join(
        part for part in (body.get("given_name"), body.get("family_name")) if isinstance(part, str) and part)
    if isinstance(name, str) and name:
        learner.name = name[:255]
    if isinstance(body.get("email"), str) and body["email"]:
        learner.email = body["email"][:320]


def course_id(body: dict[str, Any]) -> str | None:
    """The course id the LMS's events use: Canvas's ``$Canvas.course.id``, else the LTI context id
    (Moodle's context id is its course id)."""
    custom = body.get(c.CUSTOM) or {}
    canvas_course = custom.get("canvas_course_id") if isinstance(custom, dict) else None
    if canvas_course is not None and str(canvas_course).strip() and not str(canvas_course).startswith("$"):
        return str(canvas_course)
    context = body.get(c.CONTEXT) or {}
    return str(context["id"]) if context.get("id") else None
