"""Shared reading of wire formats: JSON bodies, ids, timestamps, validation errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import StrictInt, StrictStr, ValidationError

from lti_tool.events.completion import BadEvent
from lti_tool.text import BadText, check_strings

WireId = StrictStr | StrictInt
"""An LMS id as the wire carries it: text or an integer, never a boolean (``true`` is not user 1)."""

MAX_DEPTH = 64
"""Deeper nesting than any LMS sends is refused (a 10,000-level array would exhaust the stack)."""


def load_json(body: bytes) -> Any:
    """The body as JSON, refused (:class:`BadEvent`) when it is not JSON, nests deeper than
    :data:`MAX_DEPTH`, or holds a NUL, a lone surrogate or a control character in any string: no
    column of any database takes those, so they are refused here, the same on SQLite and PostgreSQL."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise BadEvent("body nests too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadEvent(f"body is not JSON ({exc.__class__.__name__})") from None
    try:
        check_strings(data, MAX_DEPTH)
    except BadText as exc:
        raise BadEvent(f"body {exc}") from None
    return data


def first_error(exc: ValidationError, prefix: str = "") -> BadEvent:
    """One line naming the first offending field, e.g. ``body.user.id: Field required``."""
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return BadEvent(f"{prefix}{where}: {error['msg']}" if where else f"{prefix}{error['msg']}")


def as_id(value: Any, field: str) -> str:
    """LMS ids arrive as strings or integers; both become the same text."""
    if isinstance(value, bool):
        raise BadEvent(f"{field}: true and false are not ids")
    if value is None:
        raise BadEvent(f"{field}: an id is required")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise BadEvent(f"{field}: not an id: {value!r}")


def as_utc(value: Any, field: str) -> datetime:
    """ISO 8601 text or Unix seconds → an aware UTC datetime."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(int(value), UTC)
        if isinstance(value, str) and value.strip().isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise BadEvent(f"{field}: not a timestamp: {value!r}")
