"""Text that crosses the tool's boundary: what is accepted in, and how it is written out.

In: :func:`checked` refuses what a database column cannot hold the same way on SQLite and
PostgreSQL (NUL characters, lone surrogates, other control characters, more characters than the
column has) with :class:`BadText`, a ``ValueError`` naming the field, for a 4xx at the door.

Out: :func:`one_line` makes any free text (a learner's name, a course title) one line wherever it
is written into a line-oriented text format (an e-mail body, a remittance list, a log line), so a
name cannot forge lines; :func:`csv_cell` neutralises spreadsheet formulas in every CSV cell the
tool writes (OWASP "CSV Injection": a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is
prefixed with ``'``; plain numbers such as ``-0.5`` are left as they are).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


class BadText(ValueError):
    """A value that no column of the tool accepts; the message names the field."""


_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""NUL, the other control characters (Unicode category ``Cc``: U+0000-U+001F, U+007F-U+009F) and
lone surrogates: one regular-expression scan instead of a Python loop over every character (every
string of every event body passes here)."""
_REFUSED_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""The same, with tab and line breaks allowed."""


def _refused_character(value: str, multiline: bool) -> str | None:
    if value.isprintable():  # no control character, surrogate or NUL: the common case, checked in C
        return None
    found = (_REFUSED_MULTILINE if multiline else _REFUSED).search(value)
    if found is None:
        return None
    code = ord(found.group())
    if code == 0:
        return "a NUL character"
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate"
    return "a control character"


def checked(value: Any, field: str, max_length: int, *, multiline: bool = False,
            required: bool = True) -> str:
    """``value`` as text a column of ``max_length`` characters holds, stripped; else :class:`BadText`."""
    if not isinstance(value, str):
        raise BadText(f"{field}: must be text")
    text = value.strip()
    if required and not text:
        raise BadText(f"{field}: is required")
    if len(text) > max_length:
        raise BadText(f"{field}: longer than {max_length} characters")
    problem = _refused_character(text, multiline)
    if problem:
        raise BadText(f"{field}: contains {problem}")
    return text


def is_clean(value: str) -> bool:
    """No NUL, lone surrogate or control character (tab and line breaks allowed)."""
    return _refused_character(value, multiline=True) is None


def one_line(value: Any) -> str:
    """Free text as one line: line breaks and other control characters become single spaces."""
    text = str(value)
    if text.isprintable():  # no line break nor control character (all are unprintable): checked in C
        return text.strip()
    text = _LINE_BREAKS.sub(" ", text)
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text).strip()


def csv_cell(value: Any) -> str:
    """One CSV cell, never a spreadsheet formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


_ROW_SEPARATOR = "\x1f"
_FORMULA_IN_ROW = re.compile(r"\x1f[=+\-@\t\r\n]")
"""A cell of a row, each cell preceded by :data:`_ROW_SEPARATOR`, that starts like a formula (or a
cell holding the separator followed by such a character: then every cell takes the exact path)."""


def csv_cells(texts: list[str]) -> list[str]:
    """:func:`csv_cell` of each of a row's texts, with one scan of the row when no cell starts
    like a formula (the common case: a claims file writes thousands of rows)."""
    if _FORMULA_IN_ROW.search(_ROW_SEPARATOR + _ROW_SEPARATOR.join(texts)) is None:
        return texts
    return [csv_cell(text) for text in texts]


def check_strings(data: Any, max_depth: int = 64) -> None:
    """Refuse (:class:`BadText`) a JSON-like tree nesting deeper than ``max_depth`` or holding a
    NUL, a lone surrogate or a control character other than tab and line breaks in any string."""
    pending = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if depth > max_depth:
            raise BadText(f"nests deeper than {max_depth} levels")
        if isinstance(value, str):
            if not is_clean(value):
                raise BadText("holds a NUL, a lone surrogate or a control character")
        elif isinstance(value, dict):
            for key, item in value.items():
                pending += [(key, depth + 1), (item, depth + 1)]
        elif isinstance(value, list):
            pending += [(item, depth + 1) for item in value]
