"""Every text a command is given is text a column can hold: no NUL character, lone surrogate (an
argument that was not UTF-8) or control character other than tab and line breaks, the same on
SQLite and PostgreSQL; every whole number (an id) fits a 64-bit column. A command given one exits 2
with the option named, before it runs; lengths and one-line rules are the services' (they know the
column)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from lti_tool import text

BIGGEST_ID = 2**63 - 1


def _problem(value: Any) -> str | None:
    if isinstance(value, str) and not text.is_clean(value):
        return "contains a NUL, a control character or bytes that are not UTF-8"
    if isinstance(value, int) and not isinstance(value, bool) and not -BIGGEST_ID - 1 <= value <= BIGGEST_ID:
        return "a number beyond what the database holds"
    return None


def _refuse_unclean(command: click.Command, callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for name, value in kwargs.items():
            values = value if isinstance(value, tuple | list) else (value,)
            for item in values:
                problem = _problem(item)
                if problem:
                    param = next((p for p in command.params if p.name == name), None)
                    label = (param.opts[0] if param is not None and param.opts else name)
                    raise click.UsageError(f"{label}: {problem}")
        return callback(*args, **kwargs)

    return checked


def refuse_unclean_text(command: click.Command) -> None:
    """Guard ``command`` and, for a group, every command under it."""
    if command.callback is not None:
        command.callback = _refuse_unclean(command, command.callback)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            refuse_unclean_text(sub)
