"""Who a launch is, in the terms the LMS's events use, so credit earned before the first launch shows.

Moodle's ``sub`` is its user id, which its events name. Canvas's ``sub`` is an opaque LTI id, so the
tool asks Canvas for ``$Canvas.user.id`` as the custom parameter ``canvas_user_id`` (see
``/lti/canvas.json``), which is what Canvas Live Events name. A learner is keyed like
:class:`lti_tool.models.Learner`: (the source's identity id, LMS user id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.lti import claims as c
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.services import learners


def is_canvas(session: Session, platform: models.Platform) -> bool:
    """Whether the platform's launches name people and courses by Canvas's own ids (its linked event
    source is a Canvas one). Only then are the ``canvas_*`` custom parameters read: on any other LMS a
    teacher can type custom parameters into an activity, and would pass for anyone."""
    source = session.get(models.Source, platform.source_id) if platform.source_id else None
    return source is not None and source.kind == "canvas"


def _custom(body: dict[str, Any], name: str) -> str | None:
    custom = body.get(c.CUSTOM)
    value = custom.get(name) if isinstance(custom, dict) else None
    if value is None or not str(value).strip() or str(value).startswith("$"):
        return None  # "$Canvas.user.id" unexpanded: the platform does not know the variable
    return str(value).strip()


def lms_user_id_of(body: dict[str, Any], *, canvas: bool) -> str:
    """The launch's learner as the LMS's events name them (``canvas``: see :func:`is_canvas`)."""
    if not canvas:
        return str(body["sub"])
    canvas_id = _custom(body, c.CANVAS_USER_ID)
    if canvas_id is None:
        raise LaunchRejected(
            "Canvas did not send the custom parameter canvas_user_id=$Canvas.user.id; "
            "add it to the tool's developer key (see /lti/canvas.json)")
    if body.get(c.CONTEXT) and _custom(body, c.CANVAS_COURSE_ID) is None:
        raise LaunchRejected(
            "Canvas did not send the custom parameter canvas_course_id=$Canvas.course.id; "
            "add it to the tool's developer key (see /lti/canvas.json)")
    return canvas_id


def seen_learner(source_id: int | None, user: str, body: dict[str, Any]) -> learners.SeenLearner | None:
    """The learner a launch names, with its name and e-mail, when the platform shares the event
    source ``source_id`` (``None``: it shares none, and no learner is recorded)."""
    if source_id is None:
        return None
    name = body.get("name") or " ".join(
        part for part in (body.get("given_name"), body.get("family_name")) if isinstance(part, str) and part)
    email = body.get("email")
    # A platform's source_id is already its event source's identity (lti_tool.lti.platforms).
    return learners.SeenLearner(
        learners.LearnerKey(source_id, user),
        name=name[:255] if isinstance(name, str) and name else None,
        email=email[:320] if isinstance(email, str) and email else None)


def course_id(body: dict[str, Any], *, canvas: bool) -> str | None:
    """The course id the LMS's events use: on Canvas ``$Canvas.course.id``, elsewhere the LTI context
    id (Moodle's context id is its course id)."""
    if canvas:
        return _custom(body, c.CANVAS_COURSE_ID)
    context = body.get(c.CONTEXT)
    return str(context["id"]) if isinstance(context, dict) and context.get("id") else None
