"""``POST /events/<kind>/<token>``: completion events from Canvas, Moodle and xAPI feeds.

The answer comes only after the event is stored (Canvas retries a non-2xx answer just three times in
about twenty minutes). Bad input gets a 4xx with a one-line reason and a log line, and nothing is
stored.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from flask import Blueprint, jsonify, request

from lti_tool.events.canvas import parse_canvas
from lti_tool.events.completion import BadEvent, BadSignature, ParsedEvent
from lti_tool.events.moodle import parse_moodle
from lti_tool.events.xapi import parse_xapi
from lti_tool.jwks import JwksUnavailable
from lti_tool.runtime import current_runtime
from lti_tool.services import sources as source_service
from lti_tool.services.ingestion import Submission
from lti_tool.services.sources import KnownSource
from lti_tool.states import EventStatus

log = logging.getLogger(__name__)
blueprint = Blueprint("events", __name__)

STATUS_CODES = {EventStatus.UNMAPPED: 202, EventStatus.QUEUED: 202}
MAX_CONTENT_TYPE = 200
"""The longest Content-Type stored with an event (its column's length)."""


def logged_path() -> str:
    """The request's path as log lines may show it: an event URL's token (a credential) replaced
    by its source's name."""
    parts = request.path.split("/")
    if len(parts) >= 4 and parts[1] == "events":
        source = current_runtime().sources.find(parts[3])
        parts[3] = f"<{source.name}>" if source else "<unknown source>"
        return "/".join(parts)
    return request.path


def _reject(code: int, reason: str, source: str = "-", **headers: str) -> Any:
    log.warning("event rejected (%s) from %s: %s", code, source, reason)
    response = jsonify(status="error", error=reason)
    response.status_code = code
    response.headers.update(headers)
    return response


@blueprint.post("/events/<kind>/<token>")
def receive(kind: str, token: str) -> Any:
    rt = current_runtime()
    source = rt.sources.find(token)
    if source is None or source.kind != kind:
        return _reject(404, "unknown event source")
    if len(request.content_type or "") > MAX_CONTENT_TYPE:
        return _reject(400, f"Content-Type longer than {MAX_CONTENT_TYPE} characters", source.name)
    # Announced now, so a transaction about to commit waits for this event while it is parsed.
    with rt.ingest.arriving() as arrival:
        raw = request.get_data(cache=False)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _reject(400, "body is not UTF-8 text", source.name)
        if kind == "xapi" and not _basic_auth_ok(source):
            return _reject(401, "HTTP Basic credentials required (source name and secret)", source.name,
                           **{"WWW-Authenticate": 'Basic realm="lti-tool"'})
        try:
            parsed = _parse(kind, raw, source)
        except BadEvent as exc:
            return _reject(400, f"malformed event: {exc}", source.name)
        except BadSignature as exc:
            return _reject(401, f"signature not accepted: {exc}", source.name)
        except JwksUnavailable as exc:
            return _reject(503, f"cannot verify the signature now: {exc}", source.name,
                           **{"Retry-After": "60"})
        outcome = arrival.submit(Submission(source.id, source.identity_id, body, request.content_type, parsed))
    payload: dict[str, Any] = {"status": outcome.status, "event_id": outcome.event_id}
    if len(outcome.items) == 1:
        payload.update({k: v for k, v in outcome.items[0].items() if k != "status"})
    elif outcome.items:
        payload["items"] = outcome.items
    return jsonify(payload), STATUS_CODES.get(outcome.status, 200)


def _parse(kind: str, raw: bytes, source: KnownSource) -> list[ParsedEvent]:
    if kind == "canvas":
        return parse_canvas(raw, jwks_url=source.jwks_url, jwks=current_runtime().jwks)
    if kind == "moodle":
        return parse_moodle(raw)
    return parse_xapi(raw)


def _basic_auth_ok(source: KnownSource) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user == source.name and source_service.secret_matches(source, secret)
