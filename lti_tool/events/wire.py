"""Shared reading of wire formats: JSON bodies, ids, timestamps, validation errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from lti_tool.events.completion import BadEvent


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadEvent(f"body is not JSON ({exc.__class__.__name__})") from None


def first_error(exc: ValidationError, prefix: str = "") -> BadEvent:
    """One line naming the first offending field, e.g. ``body.user.id: Field required``."""
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return BadEvent(f"{prefix}{where}: {error['msg']}" if where else f"{prefix}{error['msg']}")


def as_id(value: Any, field: str) -> str:
    """LMS ids arrive as strings or integers; both become the same text."""
    if isinstance(value, bool) or value is None:
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
