from tests.security.peers import default_policy, public_dns

__all__ = ["default_policy", "public_dns"]
