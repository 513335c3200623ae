"""The "Reconcile now" button and the data of the administrator page's reconciliation panel.

The button records a request (CSRF-checked, staff only, audit-logged); the scheduler's
``reconcile_requests`` job carries it out within a minute, since web workers never run jobs.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, redirect, url_for
from werkzeug.exceptions import HTTPException

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import current_runtime
from lti_tool.services.reconcile_requests import request_reconcile
from lti_tool.web.lti.context import check_csrf, current_launch, page_error, platform_identity_id, reading
from lti_tool.web.views import reconcile_view

log = logging.getLogger(__name__)
blueprint = Blueprint("lti_reconcile", __name__)
blueprint.before_request(check_csrf)
blueprint.register_error_handler(HTTPException, page_error)

STAFF = ("instructor", "administrator")


@blueprint.app_context_processor
def reconciliation() -> dict[str, Any]:
    """``reconcile_panel()`` for the page's template: computed only where the template asks."""

    def reconcile_panel() -> list[reconcile_view.SourceLine]:
        launch = current_launch(*STAFF)
        with reading() as db:
            identity_id = platform_identity_id(db, launch)
            return reconcile_view.panel(db, identity_id) if identity_id is not None else []

    return {"reconcile_panel": reconcile_panel}


@blueprint.post("/lti/reconcile")
def reconcile_now() -> Any:
    launch = current_launch(*STAFF)
    with write_session(current_runtime().sessions) as db:
        identity_id = platform_identity_id(db, launch)
        if identity_id is None:
            abort(404, "this platform is not linked to an event source; ask the tool's operator")
        sources = [s.id for s in reconcile_view.panel(db, identity_id) if s.connected]
        if not sources:
            abort(409, "none of this platform's sources is connected to its LMS's API; ask the tool's operator")
        request_reconcile(db, sources, requested_by=f"{launch.platform_id}:{launch.lms_user_id}")
        db.add(models.AuditEntry(platform_id=launch.platform_id, lms_user_id=launch.lms_user_id,
                                 action="reconcile.requested", subject=",".join(map(str, sources)),
                                 before=None, after={"sources": sources}))
    log.info("reconciliation of sources %s requested by %s of platform %s", sources, launch.lms_user_id,
             launch.platform_id)
    return redirect(url_for("lti_pages.mapping") + "#reconciliation", code=303)
