"""A credential signer for exporter tests without a database: a real RSA key, the tool's URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization

from lti_tool.exports import status_list, vc_jwt
from lti_tool.exports.open_badges import OpenBadgesExporter
from tests.support.keys import SigningKey

BASE = "https://ce.example.org"


@dataclass
class KeySigner:
    key: SigningKey = field(default_factory=lambda: SigningKey("test-key"))
    base: str = BASE

    def issuer(self) -> dict[str, Any]:
        return {"id": f"{self.base}/ob/issuer", "type": ["Profile"], "name": "lti-tool"}

    def status(self, award_id: int) -> dict[str, Any]:
        return status_list.entry(f"{self.base}/ob/status/revocation", award_id)

    def sign(self, credential: dict[str, Any]) -> str:
        pem = self.key.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        return vc_jwt.sign(credential, pem, self.key.kid)


def signed_open_badges(signer: KeySigner | None = None) -> OpenBadgesExporter:
    exporter = OpenBadgesExporter()
    exporter.signer = signer or KeySigner()
    return exporter
