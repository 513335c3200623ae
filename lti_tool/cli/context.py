"""What every command shares: the runtime (built once per invocation) and how to print."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from lti_tool.credits.registry import RuleSettingsError
from lti_tool.entry_points import PluginLoadError
from lti_tool.runtime import Runtime, build_runtime
from lti_tool.services.learners import LearnerError, LearnerKey, identity_of
from lti_tool.settings import SettingsError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def pass_runtime(command: F) -> F:
    """Give the command the runtime as its first argument; a bad setting exits 2 with one line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        root = ctx.find_root()
        if not isinstance(root.obj, Runtime):
            try:
                root.obj = build_runtime()
            except (SettingsError, RuleSettingsError, PluginLoadError) as exc:
                raise click.UsageError(str(exc)) from None
            root.call_on_close(root.obj.engine.dispose)
        return command(root.obj, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def emit(data: Any, as_json: bool, text: Callable[[Any], str] | None = None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=None, default=str))
    elif text is not None:
        click.echo(text(data))
    else:
        click.echo(json.dumps(data, indent=2, default=str))


def source_identity(session: Session, source_id: int) -> int:
    """``--source``: the identity source learners, awards and mappings of that source are stored
    under (a source sharing another's identities names the other's); an unknown id is a usage error."""
    try:
        return identity_of(session, source_id)
    except LearnerError as exc:
        log.warning("command refused: %s", exc)
        raise click.UsageError(str(exc)) from None


def source_learner(session: Session, source_id: int, user: str) -> LearnerKey:
    """``--source`` and ``--user``: the learner they name, resolved as :func:`source_identity` does
    (the learner need not exist yet); an unknown source is a usage error."""
    try:
        return LearnerKey(identity_of(session, source_id), user)
    except LearnerError as exc:
        log.warning("command refused: no learner %r: %s", user, exc)
        raise click.UsageError(f"no learner {user!r}: {exc}") from None
