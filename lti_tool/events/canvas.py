"""Canvas Live Events over HTTPS, in both forms Canvas sends.

- The raw JSON envelope ``{"metadata": {...}, "body": {...}}``.
- The signed form: the whole body is an RS256 JWT whose claims are the envelope, verified with the
  source's JWKS (key chosen by ``kid``).

A source registered with a JWKS URL accepts only the signed form, or anyone holding its URL could
forge events. Only ``course_completed`` credits; every other event is acknowledged and ignored.
The learner is ``body.user.id`` and the course ``body.course.id``: Canvas's local ids. A learner
completes a Canvas course once: a later ``course_completed`` for them is a re-fire of the same
completion (:attr:`~lti_tool.events.completion.Completion.once_per_course`).
"""

from __future__ import annotations

from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, ValidationError

from lti_tool.events.completion import BadEvent, BadSignature, Completion, Ignored, ParsedEvent
from lti_tool.events.wire import WireId, as_id, as_utc, first_error, load_json
from lti_tool.jwks import JwksCache, UnknownKey

CLOCK_LEEWAY_SECONDS = 60


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Metadata(_Loose):
    event_name: str
    event_time: str | None = None
    request_id: str | None = None


class _Envelope(_Loose):
    metadata: _Metadata
    body: dict[str, Any] | None = None


class _User(_Loose):
    id: WireId
    name: str | None = None
    email: str | None = None


class _Course(_Loose):
    id: WireId
    name: str | None = None


class _Progress(_Loose):
    completed_at: str | None = None


class _CompletedBody(_Loose):
    user: _User
    course: _Course
    progress: _Progress | None = None


def parse_canvas(body: bytes, *, jwks_url: str | None, jwks: JwksCache) -> list[ParsedEvent]:
    text = body.strip()
    signed = text[:2] == b"ey" and text.count(b".") == 2
    if signed:
        if not jwks_url:
            raise BadSignature("no JWKS URL is configured for this source")
        claims = _verified_claims(text.decode("ascii", "replace"), jwks_url, jwks)
    else:
        if jwks_url:
            raise BadSignature("this source accepts only signed events")
        claims = load_json(body)
    return [_event(claims)]


def _verified_claims(token: str, jwks_url: str, jwks: JwksCache) -> Any:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise BadEvent("body is not a JWT") from None
    if header.get("alg") != "RS256":
        raise BadSignature(f"algorithm {header.get('alg')!r} is not accepted (RS256 only)")
    kid = header.get("kid")
    if not kid:
        raise BadSignature("the JWT header has no kid")
    try:
        key = jwks.signing_key(jwks_url, str(kid))
        return jwt.decode(token, key=key, algorithms=["RS256"], leeway=CLOCK_LEEWAY_SECONDS,
                          options={"verify_aud": False})
    except UnknownKey as exc:
        raise BadSignature(str(exc)) from None
    except jwt.ExpiredSignatureError:
        raise BadSignature("the JWT has expired") from None
    except jwt.PyJWTError as exc:
        raise BadSignature(f"the JWT does not verify ({type(exc).__name__})") from None


def _event(claims: Any) -> ParsedEvent:
    if not isinstance(claims, dict):
        raise BadEvent("a Canvas event is a JSON object with metadata and body")
    try:
        envelope = _Envelope.model_validate(claims)
    except ValidationError as exc:
        raise first_error(exc) from None
    name = envelope.metadata.event_name
    if name != "course_completed":
        return Ignored(f"canvas event {name} does not credit")
    try:
        body = _CompletedBody.model_validate(envelope.body or {})
    except ValidationError as exc:
        raise first_error(exc, "body.") from None
    when = (body.progress.completed_at if body.progress else None) or envelope.metadata.event_time
    if when is None:
        raise BadEvent("body.progress.completed_at: missing, and no metadata.event_time")
    return Completion(
        lms_user_id=as_id(body.user.id, "body.user.id"),
        course_id=as_id(body.course.id, "body.course.id"),
        completed_at=as_utc(when, "body.progress.completed_at"),
        learner_name=body.user.name,
        learner_email=body.user.email,
        course_name=body.course.name,
        external_id=envelope.metadata.request_id,
        once_per_course=True,
    )
