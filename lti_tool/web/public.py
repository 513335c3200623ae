"""The tool's public pages, reachable without a launch: certificate verification and the
unsubscribe link of renewal reminders.

``/verify/<code>`` is rate-limited per client address (``certificates.verify_rate_limit``) with
Flask-Limiter; its counters live in each worker's memory, so with N workers a client gets at most N
times the limit, which is still far too few tries to guess a 144-bit code.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lti_tool.db import read_session, write_session
from lti_tool.runtime import EXTENSION, Runtime, current_runtime
from lti_tool.services.reminder_optout import learner_of, opt_out
from lti_tool.services.verification import verify

log = logging.getLogger(__name__)

blueprint = Blueprint("public", __name__)

MAX_CODE = 64
MAX_TOKEN = 200


@blueprint.get("/verify/<code>")
def verify_certificate(code: str) -> Any:
    rt = current_runtime()
    found = None
    if len(code) <= MAX_CODE:
        with read_session(rt.sessions) as db:
            found = verify(db, rt.rulebook, code, rt.settings.certificates.issuer_name)
    if found is None:
        log.warning("verify: no certificate with the code given")
        return render_template("public_verify.html", found=None,
                               issuer_url=rt.settings.certificates.issuer_url), 404
    return render_template("public_verify.html", found=found, issuer_url=rt.settings.certificates.issuer_url)


@blueprint.route("/reminders/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    """GET shows one button (so a mail scanner following the link unsubscribes nobody); POST, from
    that button or a mail client's RFC 8058 one-click, unsubscribes. The signed token is the proof."""
    rt = current_runtime()
    with read_session(rt.sessions) as db:
        learner_id = learner_of(db, token) if len(token) <= MAX_TOKEN else None
    if learner_id is None:
        log.warning("unsubscribe: a token the tool did not sign")
        return render_template("public_unsubscribe.html", state="unknown"), 404
    if request.method == "GET":
        return render_template("public_unsubscribe.html", state="ask")
    with write_session(rt.sessions) as db:
        opt_out(db, learner_id)
    log.info("learner %s unsubscribed from renewal reminders", learner_id)
    return render_template("public_unsubscribe.html", state="done")


def init_app(app: Flask) -> None:
    rt: Runtime = app.extensions[EXTENSION]
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[],
                      headers_enabled=True)
    limiter.limit(rt.settings.certificates.verify_rate_limit)(blueprint)
    app.register_blueprint(blueprint)
