"""``/lti/login`` (OIDC login initiation) and ``/lti/launch`` (the id_token's arrival)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, make_response, redirect, request, session, url_for

from lti_tool.db import read_session, write_session
from lti_tool.lti import launch as launch_service
from lti_tool.lti.claims import DEEP_LINKING_REQUEST
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.runtime import current_runtime
from lti_tool.web.lti.context import SESSION_KEY, refuse, tool_urls

blueprint = Blueprint("lti_launch", __name__)

STATE_COOKIE = "lti_tool_state"


@blueprint.route("/lti/login", methods=["GET", "POST"])
def login() -> Any:
    rt = current_runtime()
    params = {key: value for key, value in request.values.items() if isinstance(value, str)}
    try:
        with write_session(rt.sessions) as db:
            login = launch_service.begin_login(
                db, params, launch_url=tool_urls().launch_url, settings=rt.settings.lti)
    except LaunchRejected as exc:
        return refuse(str(exc), exc.status)
    response = make_response(redirect(login.url, code=302))
    response.set_cookie(
        STATE_COOKIE, login.state, max_age=rt.settings.lti.state_lifetime_seconds, httponly=True,
        secure=request.is_secure, samesite="None" if request.is_secure else "Lax",
        partitioned=request.is_secure, path="/lti/",
    )
    return response


@blueprint.post("/lti/launch")
def launch() -> Any:
    rt = current_runtime()
    state = request.form.get("state", "")
    try:
        with read_session(rt.sessions) as db:
            verified = launch_service.verify_launch(
                db, id_token=request.form.get("id_token", ""), state=state,
                state_cookie=request.cookies.get(STATE_COOKIE), key_lookup=rt.jwks.signing_key,
                settings=rt.settings.lti,
            )
        with write_session(rt.sessions) as db:
            done = launch_service.record_launch(db, verified, state=state, settings=rt.settings.lti)
    except LaunchRejected as exc:
        return refuse(str(exc), exc.status)
    session.clear()
    session[SESSION_KEY] = done.token
    target = "lti_pages.deep_link" if done.message_type == DEEP_LINKING_REQUEST else "lti_pages.home"
    response = make_response(redirect(url_for(target), code=303))
    response.delete_cookie(STATE_COOKIE, path="/lti/", secure=request.is_secure, httponly=True,
                           samesite="None" if request.is_secure else "Lax",
                           partitioned=request.is_secure)
    return response
