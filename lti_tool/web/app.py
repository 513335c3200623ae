"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from lti_tool.runtime import Runtime, build_runtime, install_runtime
from lti_tool.web import events, lti, public

log = logging.getLogger(__name__)


def create_app(runtime: Runtime | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; blueprints are imported here so importing the package has no side effects."""
    runtime = runtime or build_runtime()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.events.max_body_bytes
    app.config.update(test_config or {})
    install_runtime(app, runtime)

    app.register_blueprint(events.blueprint)
    lti.init_app(app)
    public.init_app(app)
    if runtime.settings.bench.durable_insert_route:
        from lti_tool.web import durable_insert

        durable_insert.init_app(app, runtime)

    @app.get("/healthz")
    def healthz() -> Any:
        """The trivial endpoint: no database, no plugins (the ingest benchmark's baseline)."""
        return jsonify(status="ok")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code and 400 <= exc.code < 500:
            log.warning("%s %s rejected (%s): %s", request.method, events.logged_path(), exc.code, exc.name)
        return jsonify(status="error", error=exc.description or exc.name), exc.code

    def log_exception(exc_info: Any) -> None:
        """Flask's own log line names the request path, which for events holds the source's token."""
        app.logger.error("Exception on %s [%s]", events.logged_path(), request.method, exc_info=exc_info)

    app.log_exception = log_exception  # type: ignore[method-assign]

    @app.after_request
    def no_sniffing(response: Any) -> Any:
        """Downloads (CSV, ZIP, PDF) and every other answer are taken as the type they declare."""
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app

