"""The Canvas REST client against a stand-in that answers as Canvas's API does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lti_tool.pull import canvas as canvas_module
from lti_tool.pull.canvas import CanvasClient, Throttle
from lti_tool.pull.http import HttpLimits, LmsHttp, PullError
from tests.support.canvas_api import CanvasState, canvas_handler, progress_row
from tests.support.loopback import serve


@pytest.fixture
def state() -> CanvasState:
    rows = [progress_row(i, f"Learner {i}", "2026-11-02T15:00:00Z" if i % 3 == 0 else None) for i in range(1, 251)]
    return CanvasState(courses={"565": rows}, tokens={"good"})


@pytest.fixture
def url(state: CanvasState) -> Iterator[str]:
    with serve(canvas_handler(state)) as base:
        yield base
        state.released.set()


@pytest.fixture(autouse=True)
def no_cached_tokens() -> Iterator[None]:
    canvas_module._access_tokens.clear()
    yield
    canvas_module._access_tokens.clear()


def client(url: str, auth: dict[str, str], waits: list[float] | None = None, **limits: float) -> CanvasClient:
    return CanvasClient(LmsHttp(HttpLimits(**limits)), url, auth, throttle=Throttle(3, 0.01, 0.05),
                        sleep=(waits.append if waits is not None else lambda _: None))


def pulled(c: CanvasClient, course: str = "565") -> list[tuple[str, datetime]]:
    return [(f.completion.lms_user_id, f.completion.completed_at)
            for page in c.pull(course, known=set(), since=None) for f in page.found]


def test_completions_are_the_users_with_completed_at_across_every_link_page(
        url: str, state: CanvasState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    found = pulled(client(url, {"token_env": "CANVAS_TOKEN"}))
    assert [user for user, _ in found] == [str(i) for i in range(3, 251, 3)]
    assert found[0][1] == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert sum("bulk_user_progress" in r for r in state.requests) == 3  # 250 users, 100 a page


def test_a_token_canvas_refuses_stops_the_source(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "revoked")
    with pytest.raises(PullError, match="Invalid access token") as caught:
        pulled(client(url, {"token_env": "CANVAS_TOKEN"}))
    assert caught.value.scope == "source"


def test_an_unknown_course_stops_only_that_course(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    with pytest.raises(PullError, match="not found") as caught:
        pulled(client(url, {"token_env": "CANVAS_TOKEN"}), course="404")
    assert caught.value.scope == "course"


@pytest.mark.parametrize("status", [403, 429])
def test_a_throttled_answer_waits_and_asks_again(url: str, state: CanvasState, status: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    state.throttle = [status, status]
    waits: list[float] = []
    assert len(pulled(client(url, {"token_env": "CANVAS_TOKEN"}, waits))) == 83
    assert waits == [0.01, 0.02]


def test_retry_after_is_honoured(url: str, state: CanvasState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    state.throttle, state.retry_after = [429], "0.04"
    waits: list[float] = []
    pulled(client(url, {"token_env": "CANVAS_TOKEN"}, waits))
    assert waits == [0.04]


def test_throttled_past_the_attempts_gives_the_course_up(url: str, state: CanvasState,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    state.throttle = [403] * 10
    with pytest.raises(PullError, match="still throttled"):
        pulled(client(url, {"token_env": "CANVAS_TOKEN"}, []))


def test_a_forbidden_answer_without_throttling_is_not_waited_on(url: str, state: CanvasState,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    state.forbidden.add("565")
    waits: list[float] = []
    with pytest.raises(PullError, match="HTTP 403: user not authorized") as caught:
        pulled(client(url, {"token_env": "CANVAS_TOKEN"}, waits))
    assert waits == [] and caught.value.scope == "course"


def oauth(state: CanvasState, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    state.client_secret, state.refresh_token = "key-secret", "refresh-1"
    monkeypatch.setenv("CANVAS_CLIENT_SECRET", "key-secret")
    monkeypatch.setenv("CANVAS_REFRESH_TOKEN", "refresh-1")
    return {"client_id": state.client_id, "client_secret_env": "CANVAS_CLIENT_SECRET",
            "refresh_token_env": "CANVAS_REFRESH_TOKEN"}


def test_a_developer_key_gets_an_access_token_with_the_refresh_token(
        url: str, state: CanvasState, monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(pulled(client(url, oauth(state, monkeypatch)))) == 83
    assert [r for r in state.requests if r.startswith("POST")] == ["POST /login/oauth2/token"]


def test_an_expired_access_token_is_refreshed_and_the_call_repeated(
        url: str, state: CanvasState, monkeypatch: pytest.MonkeyPatch) -> None:
    c = client(url, oauth(state, monkeypatch))
    pulled(c)
    state.expired |= set(state.tokens)  # the hour is over
    assert len(pulled(c)) == 83
    assert sum(r.startswith("POST") for r in state.requests) == 2


def test_a_refused_refresh_token_stops_the_source(url: str, state: CanvasState,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    auth = oauth(state, monkeypatch)
    state.refresh_token = "rotated"
    with pytest.raises(PullError, match="invalid_grant|refresh_token not found") as caught:
        pulled(client(url, auth))
    assert caught.value.scope == "source"


def test_calls_with_one_token_take_turns(url: str, state: CanvasState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    state.courses.update({str(c): state.courses["565"] for c in range(1, 5)})
    state.hang_seconds = 0.02
    threads = [threading.Thread(target=pulled, args=(client(url, {"token_env": "CANVAS_TOKEN"}), str(c)))
               for c in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state.most_in_flight == 1


def test_a_canvas_that_hangs_is_timed_out(url: str, state: CanvasState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    state.hang_seconds = 3
    with pytest.raises(PullError, match="timed out") as caught:
        pulled(client(url, {"token_env": "CANVAS_TOKEN"}, deadline_seconds=0.3))
    assert caught.value.scope == "source"


def test_an_answer_over_the_size_cap_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    with pytest.raises(PullError, match="cap"):
        pulled(client(url, {"token_env": "CANVAS_TOKEN"}, max_bytes=2048))


def test_a_missing_token_variable_is_named(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANVAS_TOKEN", raising=False)
    with pytest.raises(PullError, match="CANVAS_TOKEN"):
        pulled(client(url, {"token_env": "CANVAS_TOKEN"}))
