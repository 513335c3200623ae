"""W3C Bitstring Status List v1.0: how a verifier sees that a signed credential was revoked.

Each credential carries a ``BitstringStatusListEntry`` pointing at bit ``statusListIndex`` of the
tool's revocation list (the index is the award id, which never changes); the list credential's
``encodedList`` is the multibase (``u``, base64url without padding) GZIP of the bitstring, most
significant bit first, at least 16 KiB (131,072 entries) so a list reveals little about who is on it.
"""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

MIN_BITS = 131_072
PURPOSE = "revocation"
MAX_LIST_BYTES = 16 * 1024 * 1024
"""A decompressed list larger than this is refused (a GZIP bomb from a hostile host)."""


class StatusListError(ValueError):
    """The list is not a Bitstring Status List the tool can read."""


def encode(indices: Iterable[int], *, size: int | None = None) -> str:
    wanted = sorted(set(indices))
    bits = max(MIN_BITS, size or 0, (wanted[-1] + 8) // 8 * 8 if wanted else 0)
    bitstring = bytearray(bits // 8)
    for index in wanted:
        bitstring[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bitstring), mtime=0)).decode().rstrip("=")


def is_set(encoded: str, index: int) -> bool:
    if not encoded.startswith("u"):
        raise StatusListError("encodedList is not multibase base64url (it must start with 'u')")
    try:
        packed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as stream:
            bitstring = stream.read(MAX_LIST_BYTES + 1)
    except (ValueError, OSError, EOFError) as exc:
        raise StatusListError(f"encodedList cannot be decoded: {exc}") from None
    if len(bitstring) > MAX_LIST_BYTES:
        raise StatusListError("the status list is larger than any list the tool accepts")
    if index < 0 or index // 8 >= len(bitstring):
        raise StatusListError(f"statusListIndex {index} is outside the list")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def entry(list_url: str, index: int) -> dict[str, Any]:
    return {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": PURPOSE,
            "statusListIndex": str(index), "statusListCredential": list_url}


def list_credential(list_url: str, issuer: dict[str, Any], revoked: Iterable[int], now: datetime) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` naming every revoked index."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": now.isoformat(),
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                              "statusPurpose": PURPOSE, "encodedList": encode(revoked)},
    }
