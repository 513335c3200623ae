"""A platform's registration in pylti1p3's terms (what the deep-linking response signs with)."""

from __future__ import annotations

from lti_tool.db import write_session
from lti_tool.lti.platforms import find_platform
from lti_tool.lti.tool_conf import registration_for
from lti_tool.runtime import Runtime
from tests.lti.platform import TestPlatform


def test_the_registration_carries_the_platform_and_the_tools_signing_key(
    runtime: Runtime, registered: TestPlatform
) -> None:
    with write_session(runtime.sessions) as session:
        platform = find_platform(session, registered.issuer, registered.client_id)
        assert platform is not None
        registration = registration_for(session, platform)
        assert registration.get_client_id() == registered.client_id
        assert registration.get_key_set_url() == f"{registered.base}/jwks"
        assert registration.get_kid() and "PRIVATE KEY" in (registration.get_tool_private_key() or "")
