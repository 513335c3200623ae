"""The tool's public pages, reachable without a launch: certificate verification, the unsubscribe
link of renewal reminders, and the Open Badges issuer profile and revocation list.

``/verify/<code>`` is rate-limited per client address (``certificates.verify_rate_limit``) with
Flask-Limiter; its counters live in each worker's memory, so with N workers a client gets at most N
times the limit, which is still far too few tries to guess a 144-bit code.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lti_tool.db import read_session, write_session
from lti_tool.exports import vc_jwt
from lti_tool.lti.keys import NoSigningKey
from lti_tool.models import utcnow
from lti_tool.runtime import EXTENSION, Runtime, current_runtime
from lti_tool.services.badge_signer import ISSUER_PATH, STATUS_PATH, issuer_profile, revocation_list
from lti_tool.services.reminder_optout import learner_of, opt_out
from lti_tool.services.verification import verify

log = logging.getLogger(__name__)

blueprint = Blueprint("public", __name__)

MAX_CODE = 64
MAX_TOKEN = 200
CODE = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_CODE}}}")
"""What a code can be (``secrets.token_urlsafe``): anything else is answered without a query, so a
NUL byte or a long string never reaches the database (PostgreSQL refuses NUL in text: a 500)."""


@blueprint.get("/verify/<code>")
def verify_certificate(code: str) -> Any:
    rt = current_runtime()
    found = None
    if CODE.fullmatch(code):
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


@blueprint.get(ISSUER_PATH)
def issuer() -> Any:
    """The issuer profile every signed credential names (``issuer.id`` is this URL). Its id comes
    from the settings, as the signer's does, never from the request's Host: a cached public
    document must not name whatever host a client sent."""
    rt = current_runtime()
    document = {"@context": ["https://www.w3.org/ns/credentials/v2",
                             "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                **issuer_profile(rt.settings)}
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@blueprint.get(STATUS_PATH)
def revocations() -> Any:
    """The signed Bitstring Status List: verifiers read a credential's bit here."""
    rt = current_runtime()
    with read_session(rt.sessions) as db:
        try:
            token = revocation_list(db, rt.settings, utcnow())
        except NoSigningKey:
            log.error("revocation list: the tool has no signing key (run `lti-tool init`)")
            return jsonify(status="error", error="the issuer has no signing key yet"), 503
    return Response(token, mimetype=vc_jwt.MEDIA_TYPE, headers={"Cache-Control": "public, max-age=300"})


def init_app(app: Flask) -> None:
    rt: Runtime = app.extensions[EXTENSION]
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[],
                      headers_enabled=True)
    app.register_blueprint(blueprint)
    for endpoint in ("public.verify_certificate", "public.unsubscribe"):
        limited: Any = limiter.limit(rt.settings.certificates.verify_rate_limit)(app.view_functions[endpoint])
        app.view_functions[endpoint] = limited
