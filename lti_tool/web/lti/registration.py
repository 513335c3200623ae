"""``/lti/register``: LTI Dynamic Registration, started by the LMS administrator from the LMS."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from lti_tool.db import write_session
from lti_tool.lti import registration
from lti_tool.runtime import current_runtime
from lti_tool.web.lti.context import refuse, tool_urls
from lti_tool.web.lti.keys import TITLE

blueprint = Blueprint("lti_registration", __name__)


@blueprint.get("/lti/register")
def register() -> Any:
    rt = current_runtime()
    url = request.args.get("openid_configuration", "")
    if not url:
        return refuse("this page is opened by the LMS during dynamic registration", 400)
    try:
        with write_session(rt.sessions) as db:
            platform = registration.register(
                db, openid_configuration=url, registration_token=request.args.get("registration_token"),
                urls=tool_urls(), title=TITLE, timeout=rt.settings.lti.http_timeout_seconds,
                requires_approval=rt.settings.lti.registration_requires_approval)
            status, platform_id = platform.status, platform.id
    except registration.RegistrationFailed as exc:
        return refuse(f"dynamic registration failed: {exc}", 400)
    return render_template("lti_registered.html", status=status, platform_id=platform_id)
