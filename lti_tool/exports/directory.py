"""The directory destination: files under ``<root>/<credential>/``.

Written to a temporary name unique to the attempt and renamed, so a reader never sees a partial
file, two writers never share a temporary file, and a retry of the same batch replaces the same file
instead of adding a second one. The file is synced before the rename and the folder after it (and
a folder created for it, in its parent), so a delivery recorded as done survives a power cut with
its file under the final name (POSIX makes a new entry durable only once its directory is synced).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

from lti_tool.exports.base import Destination, Export
from lti_tool.exports.claim import Rendered


def sync_directory(folder: Path) -> None:
    """Make the folder's entries (a rename into it) durable."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def make_folder(folder: Path) -> None:
    """``mkdir -p``, each folder it creates made durable (its parent synced): a power cut must not
    lose the folder of a file recorded as delivered."""
    missing: list[Path] = []
    path = folder
    while not path.is_dir() and path.parent != path:
        missing.append(path)
        path = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        sync_directory(created.parent)


def deliver_to_directory(root: Path, credential: str, rendered: Rendered) -> dict[str, Any]:
    folder = root / credential
    make_folder(folder)
    final = folder / rendered.filename
    temporary = folder / f".{rendered.filename}.{uuid.uuid4().hex}.partial"
    with open(temporary, "wb") as handle:
        handle.write(rendered.content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    sync_directory(folder)
    return {
        "path": str(final),
        "bytes": len(rendered.content),
        "sha256": hashlib.sha256(rendered.content).hexdigest(),
    }


class DirectoryDestination(Destination):
    """Files in a local folder (default ``<instance_dir>/exports``), one subfolder per credential.

    Options: ``path`` (optional).
    """

    identifier = "directory"
    verbose_name = "Local directory"
    known_options = frozenset({"path"})

    @property
    def root(self) -> Path:
        return Path(self.options["path"]) if self.options.get("path") else self.instance_dir / "exports"

    def deliver(self, export: Export) -> dict[str, Any]:
        files = [deliver_to_directory(self.root, export.credential, f) for f in export.files]
        return {"path": files[0]["path"] if files else None, "files": files}
