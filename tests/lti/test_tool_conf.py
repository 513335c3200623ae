"""pylti1p3's ToolConfAbstract, answered from the database."""

from __future__ import annotations

from lti_tool.db import write_session
from lti_tool.lti.tool_conf import DatabaseToolConf
from lti_tool.runtime import Runtime
from tests.lti.platform import TestPlatform


def test_registrations_are_found_by_issuer_and_client_id(runtime: Runtime, registered: TestPlatform) -> None:
    with write_session(runtime.sessions) as session:
        conf = DatabaseToolConf(session)
        assert conf.check_iss_has_many_clients(registered.issuer)
        registration = conf.find_registration_by_params(registered.issuer, registered.client_id)
        assert registration.get_client_id() == registered.client_id
        assert registration.get_key_set_url() == f"{registered.base}/jwks"
        assert registration.get_kid() and "PRIVATE KEY" in (registration.get_tool_private_key() or "")
        assert conf.find_registration_by_params(registered.issuer, "other-client") is None
        assert conf.find_registration_by_params("https://evil.example", registered.client_id) is None


def test_deployments_must_be_registered(runtime: Runtime, registered: TestPlatform) -> None:
    with write_session(runtime.sessions) as session:
        conf = DatabaseToolConf(session)
        found = conf.find_deployment_by_params(registered.issuer, registered.deployment_id, registered.client_id)
        assert found is not None and found.get_deployment_id() == registered.deployment_id
        assert conf.find_deployment_by_params(registered.issuer, "nope", registered.client_id) is None
        assert conf.find_deployment(registered.issuer, registered.deployment_id) is not None
