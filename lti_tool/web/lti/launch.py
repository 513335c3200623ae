"""``/lti/login`` (OIDC login initiation) and ``/lti/launch`` (the id_token's arrival).

The login's state is bound to the browser by a cookie and, when the platform offers its client-side
storage (``lti_storage_target``), by a proof kept there too (:mod:`lti_tool.lti.storage`): the login
then answers a page that stores the proof before it goes on to the platform. A launch without the
cookie is answered by a page that reads the proof back and posts it from the tool's own origin; only
then is it recorded.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, make_response, redirect, render_template, request, session, url_for

from lti_tool import text
from lti_tool.db import read_session, write_session
from lti_tool.lti import launch as launch_service
from lti_tool.lti import login_state, storage
from lti_tool.lti.claims import DEEP_LINKING_REQUEST
from lti_tool.lti.launch_record import PreparedLaunch
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.runtime import current_runtime, runtime_of
from lti_tool.services.group_commit import GroupCommit
from lti_tool.web.lti.context import SESSION_KEY, base_url, refuse, tool_urls
from lti_tool.web.lti.cookies import cookie_attributes, cookie_name, shared_secret

blueprint = Blueprint("lti_launch", __name__)
log = logging.getLogger(__name__)

STATE_COOKIE = "lti_tool_state"
STORAGE_FIELD = "lti_storage_value"
"""The form field the tool's launch page posts the platform storage's answer in."""
PURGE_EVERY_SECONDS = 60.0
"""How often (at most, per process) a launch also deletes expired used nonces and launch sessions."""


def _purge_due(app: Flask) -> bool:
    """Whether this launch deletes the expired rows: one launch a minute per process does, not every
    launch (two statements fewer in the write transaction that launches take turns for)."""
    last = app.extensions.setdefault("lti_tool_launch_purge", {"at": None})
    now = time.monotonic()
    if last["at"] is not None and now - last["at"] < PURGE_EVERY_SECONDS:
        return False
    last["at"] = now
    return True


WRITES = "lti_tool_launch_writes"
"""The key under which the app keeps its launches' :class:`GroupCommit` in ``app.extensions``."""
_writes_made = threading.Lock()


def _writes() -> GroupCommit[PreparedLaunch, launch_service.Launch]:
    """Where launch requests hand their writes: launches that arrive while another launch's write
    transaction runs share the next one (as events do), instead of each taking SQLite's writer's
    turn, or a PostgreSQL commit, of its own."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    writes: GroupCommit[PreparedLaunch, launch_service.Launch] | None = app.extensions.get(WRITES)
    if writes is None:
        with _writes_made:
            writes = app.extensions.setdefault(WRITES, GroupCommit(functools.partial(_write_launches, app)))
    return writes


def _write_launches(app: Flask, prepared: list[PreparedLaunch]) -> Sequence[launch_service.Launch | BaseException]:
    """One write transaction for the launches that arrived together; should it fail, each launch
    again in a transaction of its own, so that one launch cannot fail the others."""
    sessions = runtime_of(app).sessions
    try:
        with write_session(sessions) as db:
            return launch_service.record_launches(db, prepared, purge_expired=_purge_due(app))
    except Exception as exc:
        if len(prepared) == 1:
            raise
        # Not the exception's text: it may hold the rows' values; a launch that fails alone logs it.
        log.warning("a write of %d launches failed (%s); writing each alone", len(prepared), type(exc).__name__)
    results: list[launch_service.Launch | BaseException] = []
    for launch in prepared:
        try:
            with write_session(sessions) as db:
                done = launch_service.record_launches(db, [launch], purge_expired=False)
        except Exception as exc:  # noqa: BLE001 - raised in that launch's own request
            results.append(exc)
        else:  # only once committed: a commit that fails leaves this launch its exception alone
            results.extend(done)
    return results


def _secret(name: str) -> str:
    """The tool's secret ``name``, read (or made) once per process: it never changes."""
    cache = current_app.extensions.setdefault("lti_tool_launch_secrets", {})
    if name not in cache:
        cache[name] = shared_secret(current_app, name)
    return str(cache[name])


_plain_http_warned = threading.Event()
_plain_http_lock = threading.Lock()


def _warn_plain_http_behind_https(proxy_hops: int) -> None:
    """Logged once per process: a login over plain HTTP at a tool whose public URL is https."""
    with _plain_http_lock:
        if _plain_http_warned.is_set():
            return
        _plain_http_warned.set()
    log.warning("a login arrived over plain HTTP, but lti.public_url is https: behind a TLS proxy, set "
                "lti.proxy_hops to the number of proxies (it is %d) and have the proxy send "
                "X-Forwarded-Proto; until then the tool's cookies are neither Secure nor __Host- "
                "prefixed, and browsers do not send them inside the LMS's frame", proxy_hops)


@blueprint.route("/lti/login", methods=["GET", "POST"])
def login() -> Any:
    rt = current_runtime()
    if not request.is_secure and rt.settings.lti.public_url.startswith("https://"):
        _warn_plain_http_behind_https(rt.settings.lti.proxy_hops)
    params = {key: value for key, value in request.values.items() if isinstance(value, str)}
    storage_secret, state_secret = _secret(storage.SECRET_NAME), _secret(login_state.SECRET_NAME)
    try:
        with read_session(rt.sessions) as db:  # the state is signed, not stored
            login = launch_service.begin_login(
                db, params, launch_url=tool_urls().launch_url, settings=rt.settings.lti,
                storage_secret=storage_secret, state_secret=state_secret)
    except LaunchRejected as exc:
        return refuse(str(exc), exc.status)
    if login.storage_put is None:
        response = make_response(redirect(login.url, code=302))
    else:
        response = make_response(render_template("lti_storage_login.html", put=login.storage_put))
        response.headers["Cache-Control"] = "no-store"
    response.set_cookie(cookie_name(STATE_COOKIE), login.state, max_age=rt.settings.lti.state_lifetime_seconds,
                        **cookie_attributes().as_arguments())
    return response


def _storage_value() -> str | None:
    """What the platform's storage answered the tool's launch page; ``None`` on the platform's own
    post. Only the tool's own page may post it: a cross-site form (an attacker replaying their own
    login in a victim's browser) is refused."""
    if STORAGE_FIELD not in request.form:
        return None
    own = urlsplit(base_url())
    if request.headers.get("Origin") != f"{own.scheme}://{own.netloc}" or \
            request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        raise LaunchRejected("the launch's storage answer must come from the tool's own page", 403)
    return request.form[STORAGE_FIELD]


@blueprint.post("/lti/launch")
def launch() -> Any:
    rt = current_runtime()
    state = request.form.get("state", "")
    try:
        binding = launch_service.BrowserBinding(
            state_cookie=request.cookies.get(cookie_name(STATE_COOKIE)), storage_value=_storage_value(),
            storage_secret=_secret(storage.SECRET_NAME), state_secret=_secret(login_state.SECRET_NAME))
        with read_session(rt.sessions) as db:
            verified = launch_service.verify_launch(
                db, id_token=request.form.get("id_token", ""), state=state, binding=binding,
                key_lookup=rt.jwks.signing_key, settings=rt.settings.lti,
            )
        if not verified.browser_bound:
            return _ask_platform_storage(state, verified)
        prepared = launch_service.prepare_launch(verified, settings=rt.settings.lti)  # before the write turn
        done = _writes().submit(prepared)
    except LaunchRejected as exc:
        return refuse(str(exc), exc.status)
    session.clear()
    session[SESSION_KEY] = done.token
    target = "lti_pages.deep_link" if done.message_type == DEEP_LINKING_REQUEST else "lti_pages.home"
    response = make_response(redirect(url_for(target), code=303))
    response.delete_cookie(cookie_name(STATE_COOKIE), **cookie_attributes().as_arguments())
    return response


def _ask_platform_storage(state: str, verified: launch_service.VerifiedLaunch) -> Any:
    """No state cookie: a page that asks the platform's storage for this login's proof and posts it
    back here, from the tool's origin. Nothing is stored yet."""
    target = request.form.get("lti_storage_target", "")
    if len(target) > storage.TARGET_LIMIT or not text.is_clean(target):
        target = ""  # the page then asks the platform which frame holds its storage
    response = make_response(render_template(
        "lti_storage_launch.html", id_token=request.form.get("id_token", ""), state=state,
        key=storage.key(state), target=target, origins=list(verified.storage_origins),
        field=STORAGE_FIELD))
    response.headers["Cache-Control"] = "no-store"
    return response
