"""What an exporter that signs its documents is given at start-up: the tool's credential signer.

Exporters stay free of the database: the runtime binds a signer (see
:func:`lti_tool.services.badge_signer.bind_signers`) to every exporter whose ``signs`` is true, and
the signer reads the tool's active key when asked to sign.
"""

from __future__ import annotations

from typing import Any, Protocol


class CredentialSigner(Protocol):
    def issuer(self) -> dict[str, Any]:
        """The issuer ``Profile`` (its ``id`` is the stable URL of the issuer profile document)."""

    def status(self, award_id: int) -> dict[str, Any]:
        """The ``credentialStatus`` entry of the award's credential (its bit in the revocation list)."""

    def sign(self, credential: dict[str, Any]) -> str:
        """The credential as a VC-JWT signed with the tool's active key."""
