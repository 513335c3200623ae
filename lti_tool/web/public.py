"""The tool's public pages, reachable without a launch: certificate verification.

``/verify/<code>`` is rate-limited per client address (``certificates.verify_rate_limit``) with
Flask-Limiter; its counters live in each worker's memory, so with N workers a client gets at most N
times the limit, which is still far too few tries to guess a 144-bit code.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, render_template
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lti_tool.db import read_session
from lti_tool.runtime import EXTENSION, Runtime, current_runtime
from lti_tool.services.verification import verify

log = logging.getLogger(__name__)

blueprint = Blueprint("public", __name__)

MAX_CODE = 64


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


def init_app(app: Flask) -> None:
    rt: Runtime = app.extensions[EXTENSION]
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[],
                      headers_enabled=True)
    limiter.limit(rt.settings.certificates.verify_rate_limit)(blueprint)
    app.register_blueprint(blueprint)
