"""The SFTP destination (asyncssh): each file uploaded to a hidden temporary name, then renamed.

A dropped connection leaves at most a ``.<name>.partial`` file that the retry overwrites; the final
name appears only when the whole file is there (``posix-rename`` where the server has it, so a retry
replaces a file it delivered before instead of failing).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import posixpath
import warnings
from types import ModuleType
from typing import Any

from lti_tool.exports.base import DeliveryError, Destination, Export

OPTIONS = {"host", "port", "username", "path", "known_hosts", "client_key_file", "password_env",
           "password_file", "timeout_seconds"}


@functools.cache
def _asyncssh() -> ModuleType:
    """asyncssh, imported by the first upload: the web workers and most commands, which load every
    destination to validate the configuration, never upload (about 6 MB a process). Imported once:
    ``catch_warnings`` swaps the process's warning filters, which other threads share."""
    with warnings.catch_warnings():
        # asyncssh still names DSA keys at import; cryptography warns about it on every command the
        # tool runs (on stderr, in the middle of a --json answer read with 2>&1), though no DSA key is used.
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        import asyncssh
    return asyncssh


class SftpDestination(Destination):
    """Upload to an SFTP server. Options: ``host``, ``port`` (22), ``username``, ``path`` (remote
    folder, default the login folder), ``known_hosts`` (a file; required: the server is verified),
    ``client_key_file`` and/or ``password_env`` / ``password_file``, ``timeout_seconds`` (30)."""

    identifier = "sftp"
    verbose_name = "SFTP upload"
    known_options = frozenset(OPTIONS)
    required_options = ("host", "username", "known_hosts")


    def deliver(self, export: Export) -> dict[str, Any]:
        asyncssh = _asyncssh()
        try:
            return asyncio.run(self._upload(export))
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            permanent = isinstance(exc, asyncssh.PermissionDenied)
            raise DeliveryError(f"SFTP {self.options['host']}: {type(exc).__name__}: {exc}",
                                permanent=permanent) from None

    async def _upload(self, export: Export) -> dict[str, Any]:
        asyncssh = _asyncssh()
        keys = [self.options["client_key_file"]] if self.options.get("client_key_file") else ()
        timeout = float(self.options.get("timeout_seconds", 30))
        folder = self.options.get("path", ".")
        uploaded = []
        async with asyncssh.connect(
            self.options["host"], port=int(self.options.get("port", 22)),
            username=self.options["username"], password=self.secret("password"),
            client_keys=keys or None, known_hosts=self.options["known_hosts"],
            connect_timeout=timeout, agent_path=None,
        ) as conn, conn.start_sftp_client() as sftp:
            for file in export.files:
                final = posixpath.join(folder, file.filename)
                temporary = posixpath.join(folder, f".{file.filename}.partial")
                async with sftp.open(temporary, "wb") as handle:
                    await asyncio.wait_for(handle.write(file.content), timeout)
                try:
                    await sftp.posix_rename(temporary, final)
                except asyncssh.SFTPError:  # no posix-rename: plain rename, which refuses to overwrite
                    if await sftp.exists(final):
                        await sftp.remove(final)
                    await sftp.rename(temporary, final)
                uploaded.append({"remote": final, "bytes": len(file.content),
                                 "sha256": hashlib.sha256(file.content).hexdigest()})
        return {"files": uploaded, "path": uploaded[0]["remote"] if uploaded else None}
