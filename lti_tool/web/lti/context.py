"""What the LTI views share: the tool's base URL, the current launch, and the refusal page."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort, render_template, request, session
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.lti import identity, platforms
from lti_tool.lti import launch as launch_service
from lti_tool.lti.platforms import ToolUrls
from lti_tool.runtime import current_runtime
from lti_tool.services import learners
from lti_tool.web.lti.csrf import csrf
from lti_tool.web.views import reconcile_view

log = logging.getLogger(__name__)

SESSION_KEY = "lti_launch"


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only transaction whose loaded rows stay readable after it ends (for templates)."""
    with read_session(current_runtime().sessions) as db:
        yield db
        db.expunge_all()


def base_url() -> str:
    configured = current_runtime().settings.lti.public_url
    return (configured or request.url_root).rstrip("/")


def tool_urls() -> ToolUrls:
    return ToolUrls.at(base_url())


def refuse(message: str, status: int) -> Any:
    """A clear page, a 4xx, a log line; the caller has stored nothing."""
    log.warning("LTI %s %s refused (%s): %s", request.method, request.path, status, message)
    return render_template("lti_error.html", message=message), status


def current_launch(*allowed_roles: str) -> models.LaunchSession:
    """The launch this browser holds, with one of ``allowed_roles`` (any when none given)."""
    with reading() as db:
        row = launch_service.find_session(db, session.get(SESSION_KEY))
    if row is None:
        abort(401, "no LTI launch: open the tool from your course")
    if allowed_roles and row.role not in allowed_roles:
        abort(403, "your role in this course does not allow this page")
    return row


def check_csrf() -> None:
    """Every state-changing request to the pages carries the form's (or header's) CSRF token."""
    csrf.protect()


def page_error(exc: HTTPException) -> Any:
    return refuse(exc.description or exc.name, exc.code or 400)


def platform_of(db: Session, launch: models.LaunchSession) -> models.Platform:
    return platforms.get_platform(db, launch.platform_id)


def platform_identity_id(session: Session, launch: models.LaunchSession) -> int | None:
    """The source whose learner and course ids the launch's platform uses (``None``: not linked)."""
    platform = platform_of(session, launch)
    if platform.source_id is None:
        return None
    try:
        return learners.identity_of(session, platform.source_id)
    except learners.LearnerError:
        return None


def platform_source_ids(session: Session, launch: models.LaunchSession) -> list[int]:
    """The ids of the sources whose learners and courses are the launch's platform's."""
    identity_id = platform_identity_id(session, launch)
    return [] if identity_id is None else [s.id for s in reconcile_view.platform_sources(session, identity_id)]


def course_of(db: Session, launch: models.LaunchSession) -> str:
    """The launch's course, by the id the LMS's events use; 403 when the launch has none."""
    course = identity.course_id(launch.claims, canvas=identity.is_canvas(db, platform_of(db, launch)))
    if course is None:
        abort(403, "this launch has no course")
    return course
