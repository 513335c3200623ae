"""The abuse tests share the LTI tests' platform and launch fixtures and the hostile peers'."""

from tests.lti.conftest import launch, other_platform, platform, registered, source
from tests.security.peers import default_policy, public_dns

__all__ = ["default_policy", "launch", "other_platform", "platform", "public_dns", "registered", "source"]
