"""The LTI 1.3 face of the tool: login, launch, keys, registration and the pages behind a launch.

:func:`init_app` is the one call :func:`lti_tool.web.app.create_app` makes. It installs the cookie
policy (``Secure; SameSite=None; Partitioned; HttpOnly`` and ``__Host-`` names over HTTPS, so the
pages work inside an LMS iframe: :mod:`lti_tool.web.lti.cookies`), CSRF protection for every
form (Flask-WTF), ``Content-Security-Policy: frame-ancestors`` naming the registered platforms, and,
when configured, trust in a TLS proxy's forwarded headers.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.runtime import runtime_of
from lti_tool.web.lti import (
    headers,
    keys,
    launch,
    learner,
    learner_renewal,
    pages,
    parked_panel,
    reconcile_panel,
    registration,
)
from lti_tool.web.lti.cookies import LaunchSessionInterface
from lti_tool.web.lti.csrf import csrf


def init_app(app: Flask) -> None:
    rt = runtime_of(app)
    hops = rt.settings.lti.proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.session_interface = LaunchSessionInterface()
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", rt.settings.lti.session_lifetime_seconds)
    # Checked for the pages' forms only: the launch is a cross-site post verified by its signed JWT,
    # and the event endpoints are machine-to-machine, authenticated by token or signature.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)  # context.check_csrf runs it for every form the pages serve
    for blueprint in (launch.blueprint, keys.blueprint, registration.blueprint, pages.blueprint,
                      learner.blueprint, learner_renewal.blueprint, reconcile_panel.blueprint,
                      parked_panel.blueprint):
        app.register_blueprint(blueprint)
    headers.install(app)
