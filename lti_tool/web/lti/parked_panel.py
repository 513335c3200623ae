"""The administrator page's panel of parked events, and its Retry button.

An event that failed the same way ten times is parked with its error instead of being retried for
ever (:mod:`lti_tool.services.ingestion`); the platform's administrators see those of its sources
here and can put one back in line once its cause is mended (the reprocess job, not the web worker,
credits it). The tool's operator has the same through ``lti-tool events parked`` and ``events retry``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, redirect, url_for
from werkzeug.exceptions import HTTPException

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import current_runtime
from lti_tool.services.ingestion import parked_events, unpark
from lti_tool.web.lti.context import check_csrf, current_launch, page_error, platform_source_ids, reading

log = logging.getLogger(__name__)
blueprint = Blueprint("lti_parked", __name__)
blueprint.before_request(check_csrf)
blueprint.register_error_handler(HTTPException, page_error)

SHOWN = 50
"""The most parked events the panel lists (the oldest first; the CLI lists all)."""


@blueprint.app_context_processor
def parked() -> dict[str, Any]:
    """``parked_panel()`` for the page's template: computed only where the template asks."""

    def parked_panel() -> list[dict[str, Any]]:
        launch = current_launch("administrator")
        with reading() as db:
            sources = platform_source_ids(db, launch)
            return parked_events(db, sources, limit=SHOWN) if sources else []

    return {"parked_panel": parked_panel}


@blueprint.post("/lti/events/<int:event_id>/retry")
def retry_event(event_id: int) -> Any:
    launch = current_launch("administrator")
    with write_session(current_runtime().sessions) as db:
        if not unpark(db, event_id, platform_source_ids(db, launch)):
            abort(404, "no parked event with this number among this platform's events")
        db.add(models.AuditEntry(platform_id=launch.platform_id, lms_user_id=launch.lms_user_id,
                                 action="event.retried", subject=str(event_id), before={"status": "parked"},
                                 after={"status": "failed", "attempts": 0}))
    log.info("parked event %s put back in line by %s of platform %s", event_id, launch.lms_user_id,
             launch.platform_id)
    return redirect(url_for("lti_pages.mapping") + "#parked-events", code=303)
