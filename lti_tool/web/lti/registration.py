"""``/lti/register``: LTI Dynamic Registration, started by the LMS administrator from the LMS.

Anonymous, and it makes the tool call the address it is given, so: at most
``lti.registrations_per_minute`` requests per client address (429), at most
``lti.registrations_at_once`` running at once per worker (503 at once, never a queue), each remote
call within ``lti.http_timeout_seconds`` in all (:mod:`lti_tool.outbound`), and no database
transaction open while the platform answers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

from lti_tool.db import write_session
from lti_tool.lti import registration
from lti_tool.runtime import current_runtime
from lti_tool.text import BadText, checked
from lti_tool.web.lti.context import refuse, tool_urls
from lti_tool.web.lti.keys import TITLE
from lti_tool.web.throttle import ClientRate, Gate

blueprint = Blueprint("lti_registration", __name__)

GATE, RATE = "lti_tool.registration_gate", "lti_tool.registration_rate"


@blueprint.record_once
def _limits(state: Any) -> None:
    from lti_tool.runtime import EXTENSION

    lti = state.app.extensions[EXTENSION].settings.lti
    state.app.extensions[GATE] = Gate(lti.registrations_at_once)
    state.app.extensions[RATE] = ClientRate(lti.registrations_per_minute)


def throttled(kind: str) -> Any:
    """A 429 when this client asked too often in the last minute, else ``None``."""
    wait = current_app.extensions[RATE].allow(f"{kind}:{request.remote_addr or '?'}")
    if wait is None:
        return None
    page, status = refuse("too many requests from this address; try again in a minute", 429)
    return page, status, {"Retry-After": str(int(wait) + 1)}


@blueprint.get("/lti/register")
def register() -> Any:
    rt = current_runtime()
    refused = throttled("register")
    if refused:
        return refused
    try:
        url = checked(request.args.get("openid_configuration", ""), "openid_configuration", 2000)
    except BadText as exc:
        if not request.args.get("openid_configuration"):
            return refuse("this page is opened by the LMS during dynamic registration", 400)
        return refuse(f"dynamic registration failed: {exc}", 400)
    gate: Gate = current_app.extensions[GATE]
    if not gate.enter():
        page, status = refuse("the tool is busy with other registrations; try again shortly", 503)
        return page, status, {"Retry-After": "5"}
    try:
        negotiated = registration.negotiate(
            openid_configuration=url, registration_token=request.args.get("registration_token"),
            urls=tool_urls(), title=TITLE, deadline=rt.settings.lti.http_timeout_seconds)
    except (registration.RegistrationFailed, BadText) as exc:
        return refuse(f"dynamic registration failed: {exc}", 400)
    finally:
        gate.leave()
    try:
        with write_session(rt.sessions) as db:
            platform = registration.record(
                db, negotiated, requires_approval=rt.settings.lti.registration_requires_approval)
            status, platform_id = platform.status, platform.id
    except registration.RegistrationFailed as exc:
        return refuse(f"dynamic registration failed: {exc}", 400)
    return render_template("lti_registered.html", status=status, platform_id=platform_id)
