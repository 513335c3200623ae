"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException

from lti_tool.runtime import Runtime, build_runtime


def create_app(runtime: Runtime | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; blueprints are imported here so importing the package has no side effects."""
    runtime = runtime or build_runtime()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.events.max_body_bytes
    app.config.update(test_config or {})
    app.extensions["lti_tool"] = runtime

    from lti_tool.web import events

    app.register_blueprint(events.blueprint)

    @app.get("/healthz")
    def healthz() -> Any:
        """The trivial endpoint: no database, no plugins (the ingest benchmark's baseline)."""
        return jsonify(status="ok")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return jsonify(status="error", error=exc.description or exc.name), exc.code

    return app


def runtime() -> Runtime:
    """The runtime of the app serving the current request."""
    return current_app.extensions["lti_tool"]
