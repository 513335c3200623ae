"""The xAPI LRS client against a stand-in statements resource (since, more links, Basic auth)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lti_tool.pull.http import LmsHttp, PullError
from lti_tool.pull.lrs import LrsClient
from tests.support.loopback import serve
from tests.support.lrs_api import LrsState, lrs_handler, statement


@pytest.fixture
def state() -> LrsState:
    return LrsState(key="k1", secret="s1", statements=[
        statement("u1", "https://lms.example/course/hipaa", "2026-11-01T10:00:00Z", duration="PT1H30M"),
        statement("u2", "https://lms.example/course/hipaa", "2026-11-02T10:00:00Z"),
        statement("u3", "https://lms.example/course/hipaa", "2026-11-03T10:00:00Z"),
        statement("u4", "https://lms.example/course/hipaa", "2026-11-04T10:00:00Z",
                  verb="http://adlnet.gov/expapi/verbs/attempted"),
        statement("u5", "https://lms.example/course/osha", "2026-11-05T10:00:00Z"),
    ])


@pytest.fixture
def client(state: LrsState, monkeypatch: pytest.MonkeyPatch) -> Iterator[LrsClient]:
    monkeypatch.setenv("LRS_CREDENTIALS", "k1:s1")
    with serve(lrs_handler(state)) as base:
        yield LrsClient(LmsHttp(), f"{base}/xapi/", {"token_env": "LRS_CREDENTIALS"})


def test_completed_statements_are_read_through_every_more_link(client: LrsClient) -> None:
    found = [f.completion for page in client.pull(None, known=set(), since=None) for f in page.found]
    assert [c.lms_user_id for c in found] == ["u1", "u2", "u3", "u5"]
    assert found[0].measured_minutes == 90


def test_since_is_sent_and_the_watermark_is_the_latest_stored(client: LrsClient, state: LrsState) -> None:
    result = list(client.pull(None, known=set(), since=datetime(2026, 11, 2, 10, 0, tzinfo=UTC)))
    assert [f.completion.lms_user_id for p in result for f in p.found] == ["u3", "u5"]
    assert state.queries[0]["since"] == "2026-11-02T10:00:00Z"
    assert max(p.watermark for p in result if p.watermark) == datetime(2026, 11, 5, 10, 0, tzinfo=UTC)


def test_a_refused_key_stops_the_source(client: LrsClient, state: LrsState) -> None:
    state.secret = "rotated"
    with pytest.raises(PullError, match="401") as caught:
        list(client.pull(None, known=set(), since=None))
    assert caught.value.scope == "source"
