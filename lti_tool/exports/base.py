"""The two extension points of exports: an :class:`Exporter` *renders* claims into files, a
:class:`Destination` *delivers* them.

Both are found through entry points (``lti_tool.exporters``, ``lti_tool.destinations``), the built-in
ones registered the same way as a third party's, and discovered once at start-up
(:func:`lti_tool.exports.discovery.discover`). Each subclass names itself with ``identifier``.

An exporter is pure: the same claims give the same bytes, so a retried delivery sends the same thing.
A destination raises :class:`DeliveryError` when the receiver did not accept the export; it returns a
receipt (a JSON-able dict) only once the receiver has accepted it.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from lti_tool.exports.claim import Claim, Rendered
from lti_tool.exports.signing import CredentialSigner


@dataclass(frozen=True)
class Export:
    """What an exporter made of one batch: files, and a subject and body for destinations that
    carry a message (e-mail)."""

    key: str
    """The batch's idempotency key: sent as the HTTP ``webhook-id``, the e-mail ``Message-ID``, and
    part of every file name."""
    name: str
    credential: str
    files: tuple[Rendered, ...]
    subject: str
    body: str
    claim_keys: tuple[str, ...]


class Exporter(ABC):
    """Renders the claims of one batch (one credential) into files."""

    identifier: ClassVar[str]
    verbose_name: ClassVar[str]
    signs: ClassVar[bool] = False
    """True for an exporter that signs what it renders: the runtime gives it :attr:`signer`."""
    signer: CredentialSigner | None = None
    public_base: str | None = None
    """The tool's public URL, for links in documents (certificate verification); bound by the runtime."""
    certificate_codes: ClassVar[bool] = True
    """True for an exporter that may print a claim's certificate code (:attr:`Claim.verify_code`):
    every award in its batches is given its code when the batch is formed, the same code the
    learner's download and ``/verify/<code>`` show. An exporter that never reads ``verify_code``
    says ``False``, and the export tick makes no codes for it (its claims carry the award's code only
    if the award has one already). ``True`` unless said otherwise, so an exporter that prints codes
    always gets them."""

    @abstractmethod
    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        """Files for these claims; ``name`` is unique per batch and stable across retries."""

    def message(self, credential: str, claims: list[Claim]) -> tuple[str, str]:
        """Subject and body of a message carrying the files (e-mail)."""
        learners = len({c.learner_lms_id for c in claims})
        return (f"{credential}: {len(claims)} continuing-education claim(s)",
                f"{len(claims)} claim(s) for {learners} learner(s) of {credential} are attached.\n")


class DeliveryError(Exception):
    """The receiver did not accept the export.

    ``permanent``: retrying will not change the answer (a 4xx, a refused recipient), so the batch
    goes to the dead letter. ``retry_after``: seconds the receiver asked us to wait.
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Destination(ABC):
    """Delivers an :class:`Export` somewhere, once per key.

    ``options`` come from the destination's table in ``config/exports.toml``; secrets never do: the
    table names an environment variable (``*_env``) or a file (``*_file``), read by :meth:`secret`.
    """

    identifier: ClassVar[str]
    verbose_name: ClassVar[str]
    known_options: ClassVar[frozenset[str] | None] = None
    """Every option the destination takes; any other is refused at start-up (``None``: not checked)."""
    required_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, options: Mapping[str, Any], instance_dir: Path):
        self.name = name
        self.options = dict(options)
        self.instance_dir = instance_dir
        for option in SECRET_OPTIONS:
            if option in self.options:
                raise ValueError(f"destination {name!r}: put {option} in the environment or a file "
                                 f"({option}_env / {option}_file), never in the config")
        for option, value in self.options.items():
            if option in SECRET_FILE_OPTIONS and value:
                refuse_file_in_repository(name, option, Path(value))
        unknown = set(self.options) - self.known_options if self.known_options is not None else set()
        if unknown:
            raise ValueError(f"destination {name!r} ({self.identifier}): unknown option(s) {sorted(unknown)}")
        self.require(*self.required_options)
        self.check()

    def check(self) -> None:
        """Further checks of the options at start-up, beyond known and required ones (raise
        ``ValueError`` naming what is wrong). None by default."""
        return None

    @abstractmethod
    def deliver(self, export: Export) -> dict[str, Any]:
        """Deliver and return the receipt; raise :class:`DeliveryError` if not accepted."""

    def require(self, *keys: str) -> None:
        missing = [k for k in keys if not self.options.get(k)]
        if missing:
            raise ValueError(f"destination {self.name!r} ({self.identifier}) needs {', '.join(missing)}")

    def secret(self, option: str) -> str | None:
        """The secret named by ``<option>_env`` (an environment variable) or ``<option>_file``."""
        env = self.options.get(f"{option}_env")
        if env:
            value = os.environ.get(env)
            if value is None:
                raise DeliveryError(f"environment variable {env} ({self.name}.{option}) is not set")
            return value
        path = self.options.get(f"{option}_file")
        if path:
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise DeliveryError(f"{self.name}.{option}_file: {exc.strerror or exc}: {path}") from None
        return None


SECRET_OPTIONS = ("password", "secret", "client_key", "private_key", "token")
"""Options that would hold a secret in clear: refused, whatever the destination."""
SECRET_FILE_OPTIONS = ("password_file", "secret_file", "client_key_file", "token_file")


def refuse_file_in_repository(destination: str, option: str, path: Path) -> None:
    """A secret file inside a Git work tree (this checkout or any other) would end up committed."""
    for folder in path.expanduser().resolve().parents:
        if (folder / ".git").exists():
            raise ValueError(f"destination {destination!r}: {option} {str(path)!r} is inside the Git "
                             f"work tree {str(folder)!r}; keep secrets outside any repository")
