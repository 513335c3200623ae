"""The frame-ancestors origins are read once per time limit, not once per HTML answer."""

from __future__ import annotations

import pytest

from lti_tool.db import write_session
from lti_tool.lti import frame_origins
from lti_tool.lti.platforms import add_platform
from lti_tool.runtime import Runtime


def _add(runtime: Runtime, host: str) -> None:
    with write_session(runtime.sessions) as session:
        add_platform(session, issuer=f"https://{host}", client_id="c", deployment_ids=["d"],
                     auth_login_url=f"https://{host}/auth", auth_token_url=f"https://{host}/token",
                     key_set_url=f"https://{host}/jwks")


def test_a_platform_added_is_named_once_the_remembered_origins_expire(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(frame_origins.time, "monotonic", lambda: clock[0])
    _add(runtime, "one.lms.example")
    origins = frame_origins.FrameOrigins(runtime.sessions, ttl=5)
    assert origins.get() == ["https://one.lms.example"]
    _add(runtime, "two.lms.example")
    clock[0] += 4.9
    assert origins.get() == ["https://one.lms.example"], "read again before its time limit"
    clock[0] += 0.2
    assert origins.get() == ["https://one.lms.example", "https://two.lms.example"]
