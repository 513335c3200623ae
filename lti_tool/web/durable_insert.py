"""``POST /bench/durable-insert``: the ingest benchmark's ceiling, off unless ``bench.durable_insert_route``.

It does what a minimal durable webhook receiver does: store the raw body in one table and commit,
one transaction per request, answered after the commit, with the same engine and the same fsync
policy as the event route (SQLite ``synchronous=FULL``; PostgreSQL's default ``fsync`` and
``synchronous_commit``). ``bench/ingest.py`` measures the event route against it in the same run.

Its table is not part of the tool's schema (no migration): it is created when the route is enabled,
which only a benchmark does, in its own fresh database.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

from lti_tool.db import write_session
from lti_tool.runtime import Runtime, current_runtime

RAW_BODIES = Table(
    "bench_raw_bodies", MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("body", Text, nullable=False),
)
_INSERT = insert(RAW_BODIES)

blueprint = Blueprint("durable_insert", __name__)


@blueprint.post("/bench/durable-insert")
def store_raw_body() -> Any:
    body = request.get_data(cache=False).decode("utf-8", errors="replace")
    with write_session(current_runtime().sessions) as session:
        session.execute(_INSERT, {"body": body})
    return {"status": "stored"}, 201


def init_app(app: Flask, runtime: Runtime) -> None:
    """Create the route's table if it is missing and register the route."""
    RAW_BODIES.create(runtime.engine, checkfirst=True)
    app.register_blueprint(blueprint)
