"""Certificates learners upload for outside credit: checked by content, kept outside the web root.

Only PDF, PNG and JPEG are accepted, recognised by their first bytes (never by the name or the
type the browser claims), at most :data:`MAX_BYTES`. A file is stored once under its SHA-256 in
``<instance_dir>/outside-certificates/``, a folder no route serves; it is read back only through
the audit packet.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024
FOLDER = "outside-certificates"
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


class CertificateRefused(ValueError):
    """The upload is not a PDF, PNG or JPEG, or is too large (answered 400)."""


@dataclass(frozen=True)
class StoredCertificate:
    file: str
    media_type: str


def sniff(content: bytes) -> tuple[str, str]:
    """The media type and extension the content is, or :class:`CertificateRefused`."""
    for magic, media_type, extension in SIGNATURES:
        if content.startswith(magic):
            return media_type, extension
    raise CertificateRefused("a certificate must be a PDF, PNG or JPEG file")


def store_certificate(instance_dir: Path, content: bytes) -> StoredCertificate:
    if len(content) > MAX_BYTES:
        raise CertificateRefused(f"a certificate may be at most {MAX_BYTES // (1024 * 1024)} MB")
    if not content:
        raise CertificateRefused("the certificate file is empty")
    media_type, extension = sniff(content)
    folder = instance_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(content).hexdigest() + extension
    target = folder / name
    if not target.exists():
        handle, temporary = tempfile.mkstemp(dir=folder)
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    return StoredCertificate(name, media_type)


def read_certificate(instance_dir: Path, name: str) -> bytes:
    return (instance_dir / FOLDER / Path(name).name).read_bytes()
