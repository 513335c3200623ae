"""POST /bench/durable-insert: the ingest benchmark's ceiling exists only when a benchmark enables it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.runtime import build_runtime
from lti_tool.settings import BenchSettings, Settings
from lti_tool.web.app import create_app
from lti_tool.web.durable_insert import RAW_BODIES


@pytest.fixture
def bench_client(settings: Settings) -> Iterator[FlaskClient]:
    rt = build_runtime(settings.model_copy(update={"bench": BenchSettings(durable_insert_route=True)}))
    yield create_app(rt, {"TESTING": True}).test_client()
    RAW_BODIES.drop(rt.engine, checkfirst=True)
    rt.engine.dispose()


def test_the_route_is_absent_by_default(client: FlaskClient) -> None:
    assert client.post("/bench/durable-insert", data=b"{}").status_code == 404


def test_each_request_is_committed_with_its_raw_body_before_the_answer(bench_client: FlaskClient) -> None:
    bodies = [b'{"n": 1}', b'{"n": 2}']
    answers = [bench_client.post("/bench/durable-insert", data=body) for body in bodies]

    assert [a.status_code for a in answers] == [201, 201]
    rt = bench_client.application.extensions["lti_tool"]
    with rt.engine.connect() as conn:
        stored = list(conn.scalars(select(RAW_BODIES.c.body).order_by(RAW_BODIES.c.id)))
    assert stored == [b.decode() for b in bodies]
