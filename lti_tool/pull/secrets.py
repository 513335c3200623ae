"""Reading a connection's secrets where its ``auth`` says they live: the environment or a file.

The same rules as export destinations: a secret is never in the database or the config, a secret file
never inside a Git work tree.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lti_tool.pull.http import PullError


def read_secret(auth: dict[str, Any], name: str) -> str | None:
    """The secret ``name`` from ``<name>_env`` or ``<name>_file``; ``None`` if neither is set."""
    env = auth.get(f"{name}_env")
    if env:
        value = os.environ.get(env)
        if not value:
            raise PullError(f"environment variable {env} ({name}) is not set", scope="source")
        return value.strip()
    path = auth.get(f"{name}_file")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PullError(f"{name}_file: {exc.strerror or exc}: {path}", scope="source") from None
    return None


def require_secret(auth: dict[str, Any], name: str) -> str:
    value = read_secret(auth, name)
    if value is None:
        raise PullError(f"the connection names no {name} (connect the source again)", scope="source")
    return value
