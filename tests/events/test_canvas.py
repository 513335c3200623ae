"""Canvas Live Events: the raw envelope and the signed JWT form."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import jwt
import pytest

from lti_tool.events.canvas import parse_canvas
from lti_tool.events.completion import BadEvent, BadSignature, Completion, Ignored
from lti_tool.jwks import JwksCache
from tests.spine import fixture_bytes, fixture_json
from tests.support.keys import SigningKey, jwks_server


def raw(name: str = "canvas_course_completed.json") -> list[Any]:
    return parse_canvas(fixture_bytes(name), jwks_url=None, jwks=JwksCache())


def test_raw_course_completed_names_learner_course_and_time() -> None:
    [event] = raw()
    assert isinstance(event, Completion)
    assert (event.lms_user_id, event.course_id) == ("123", "565")
    assert event.completed_at.isoformat() == "2019-11-05T13:38:00.218000+00:00"
    assert (event.learner_name, event.learner_email, event.course_name) == (
        "Isaac Newton", "inewton@example.com", "Computer Science I")


def test_course_progress_is_ignored() -> None:
    [event] = raw("canvas_course_progress.json")
    assert isinstance(event, Ignored) and "course_progress" in event.reason


def test_numeric_ids_become_the_same_text() -> None:
    envelope = fixture_json("canvas_course_completed.json")
    envelope["body"]["user"]["id"], envelope["body"]["course"]["id"] = 123, 565
    [event] = parse_canvas(json.dumps(envelope).encode(), jwks_url=None, jwks=JwksCache())
    assert (event.lms_user_id, event.course_id) == ("123", "565")


def test_missing_completed_at_falls_back_to_event_time() -> None:
    envelope = fixture_json("canvas_course_completed.json")
    envelope["body"]["progress"]["completed_at"] = None
    [event] = parse_canvas(json.dumps(envelope).encode(), jwks_url=None, jwks=JwksCache())
    assert event.completed_at.isoformat().startswith("2019-11-01T19:11:26")


@pytest.mark.parametrize("mutate, field", [
    (lambda e: e["body"]["user"].pop("id"), "body.user.id"),
    (lambda e: e["body"].pop("course"), "body.course"),
    (lambda e: e.pop("metadata"), "metadata"),
    (lambda e: e["body"]["progress"].update(completed_at="yesterday"), "completed_at"),
])
def test_malformed_course_completed_names_the_field(mutate: Any, field: str) -> None:
    envelope = fixture_json("canvas_course_completed.json")
    mutate(envelope)
    with pytest.raises(BadEvent, match=field):
        parse_canvas(json.dumps(envelope).encode(), jwks_url=None, jwks=JwksCache())


def signed_claims() -> dict[str, Any]:
    claims = copy.deepcopy(fixture_json("canvas_course_completed.json"))
    claims["iat"] = int(time.time())
    return claims


def test_signed_event_verifies_against_the_sources_jwks() -> None:
    key = SigningKey("canvas-2026")
    with jwks_server(key) as server:
        [event] = parse_canvas(key.sign(signed_claims()).encode(), jwks_url=server.url, jwks=JwksCache(timeout=2))
    assert isinstance(event, Completion) and event.lms_user_id == "123"


def test_signed_event_with_an_unknown_kid_is_refused_after_one_refetch() -> None:
    known, stranger = SigningKey("known"), SigningKey("stranger")
    with jwks_server(known) as server:
        cache = JwksCache(timeout=2, min_refetch_interval=60)
        parse_canvas(known.sign(signed_claims()).encode(), jwks_url=server.url, jwks=cache)
        for _ in range(3):
            with pytest.raises(BadSignature, match="stranger"):
                parse_canvas(stranger.sign(signed_claims()).encode(), jwks_url=server.url, jwks=cache)
        assert server.requests == 1


def test_signed_event_with_a_rotated_kid_is_accepted() -> None:
    old, new = SigningKey("2025"), SigningKey("2026")
    with jwks_server(old) as server:
        cache = JwksCache(timeout=2, min_refetch_interval=0)
        parse_canvas(old.sign(signed_claims()).encode(), jwks_url=server.url, jwks=cache)
        server.keys = [new]
        [event] = parse_canvas(new.sign(signed_claims()).encode(), jwks_url=server.url, jwks=cache)
    assert isinstance(event, Completion)


def test_signature_by_another_key_with_a_known_kid_is_refused() -> None:
    published, forger = SigningKey("k"), SigningKey("k")
    with jwks_server(published) as server:
        with pytest.raises(BadSignature, match="does not verify"):
            parse_canvas(forger.sign(signed_claims()).encode(), jwks_url=server.url, jwks=JwksCache(timeout=2))


@pytest.mark.parametrize("token", [
    jwt.encode({"metadata": {"event_name": "course_completed"}}, None, algorithm="none", headers={"kid": "k"}),
    jwt.encode({"metadata": {"event_name": "course_completed"}}, "secret-secret-secret-secret-32b!", algorithm="HS256", headers={"kid": "k"}),
], ids=["alg-none", "hs256"])
def test_algorithms_other_than_rs256_are_refused(token: str) -> None:
    with jwks_server(SigningKey("k")) as server:
        with pytest.raises(BadSignature, match="RS256"):
            parse_canvas(token.encode(), jwks_url=server.url, jwks=JwksCache(timeout=2))


def test_missing_kid_is_refused() -> None:
    key = SigningKey("k")
    token = jwt.encode(signed_claims(), key.private, algorithm="RS256")
    with jwks_server(key) as server:
        with pytest.raises(BadSignature, match="kid"):
            parse_canvas(token.encode(), jwks_url=server.url, jwks=JwksCache(timeout=2))


def test_expired_event_is_refused_and_a_clock_30_seconds_ahead_is_tolerated() -> None:
    key = SigningKey("k")
    with jwks_server(key) as server:
        cache = JwksCache(timeout=2)
        expired = {**signed_claims(), "exp": int(time.time()) - 120}
        with pytest.raises(BadSignature, match="expired"):
            parse_canvas(key.sign(expired).encode(), jwks_url=server.url, jwks=cache)
        ahead = {**signed_claims(), "iat": int(time.time()) + 30, "nbf": int(time.time()) + 30}
        [event] = parse_canvas(key.sign(ahead).encode(), jwks_url=server.url, jwks=cache)
    assert isinstance(event, Completion)


def test_a_source_with_a_jwks_url_refuses_the_raw_form() -> None:
    with pytest.raises(BadSignature, match="only signed"):
        parse_canvas(fixture_bytes("canvas_course_completed.json"), jwks_url="http://127.0.0.1:9/jwks", jwks=JwksCache())


def test_a_source_without_a_jwks_url_refuses_the_signed_form() -> None:
    token = SigningKey("k").sign(signed_claims())
    with pytest.raises(BadSignature, match="no JWKS URL"):
        parse_canvas(token.encode(), jwks_url=None, jwks=JwksCache())
