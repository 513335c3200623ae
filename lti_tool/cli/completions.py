"""``lti-tool completions import``: bring an organisation's historical completions in from CSV."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

import click

from lti_tool import models
from lti_tool.cli.context import emit, pass_runtime
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.history_import import BadRow, ImportFileError, ImportSummary, Row, credit_chunk, read_rows
from lti_tool.services.sources import find_by_name

log = logging.getLogger(__name__)
PROGRESS_EVERY = 2000
"""Lines between progress bar updates (drawing it for each of a million lines would cost more than the import)."""


class _DryRun(Exception):
    """Raised inside a chunk's transaction to roll it back after counting."""


@click.group()
def completions() -> None:
    """Course completions: import historical ones from a CSV file."""


@completions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", "source_name", required=True, metavar="NAME",
              help="The source whose learner and course ids the file uses.")
@click.option("--dry-run", is_flag=True, help="Check and count every row; write nothing.")
@click.option("--chunk-size", type=click.IntRange(1, 50_000), default=5000, show_default=True,
              help="Rows credited per transaction.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def import_(rt: Runtime, file: str, source_name: str, dry_run: bool, chunk_size: int, as_json: bool) -> None:
    """Import FILE (CSV: user_id,course_id,completed_at[,minutes,name,email]); print a summary.

    Each row goes through the same rules as a pushed event; a bad row is reported with its line
    number and written nowhere; importing the same file again adds nothing."""
    with read_session(rt.sessions) as session:
        source = find_by_name(session, source_name)
    if source is None:
        raise click.UsageError(f"no source named {source_name!r}")
    summary = ImportSummary()
    label = os.path.basename(file)
    bar: Any = (click.progressbar(length=os.path.getsize(file), label=f"importing {label}", file=sys.stderr)
                if sys.stderr.isatty() else contextlib.nullcontext())
    with open(file, "rb") as raw, bar as progress, _fewer_collections():
        chunk: list[Row] = []
        try:
            for item in read_rows(_lines(raw, progress.update if progress else None), rt.settings.zone):
                if isinstance(item, BadRow):
                    summary.rows += 1
                    summary.add_error(item.line, item.reason)
                    continue
                chunk.append(item)
                if len(chunk) >= chunk_size:
                    _credit(rt, source, chunk, summary, dry_run, label)
                    chunk = []
        except ImportFileError as exc:
            raise click.UsageError(str(exc)) from None
        _credit(rt, source, chunk, summary, dry_run, label)
    summary.errors.sort(key=lambda e: e["line"])
    emit(summary.as_dict() | ({"dry_run": True} if dry_run else {}), as_json, _text)
    if summary.errors:
        raise SystemExit(1)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A chunk makes a few hundred thousand objects that live until it commits, and Python's cyclic
    collector walked them, with every object the program had made before, many times a chunk (a
    fifth of a large import's time). The objects made before the import are frozen out of its
    walks, and it runs less often; it still runs, so memory stays bounded."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _lines(raw: IO[bytes], advance: Callable[[int], Any] | None) -> Iterator[str]:
    """The file's lines as text (a BOM dropped); a byte that is not UTF-8 becomes U+FFFD, which the
    row's check reports."""
    pending = 0
    for number, line in enumerate(raw):
        pending += len(line)
        if advance is not None and number % PROGRESS_EVERY == 0:
            advance(pending)
            pending = 0
        yield line.decode("utf-8-sig" if number == 0 else "utf-8", errors="replace")
    if advance is not None:
        advance(pending)


def _credit(rt: Runtime, source: models.Source, rows: list[Row], summary: ImportSummary, dry_run: bool,
            label: str) -> None:
    """One chunk in one transaction; a chunk the database refuses is tried again row by row, so
    only the rows at fault are reported and the others go in."""
    if not rows:
        return
    counted = ImportSummary()
    try:
        with write_session(rt.sessions) as session:
            credit_chunk(session, rt.rulebook, source, rows, counted, label=label)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except Exception as exc:  # noqa: BLE001 - the database refused the chunk: find the rows at fault
        if len(rows) > 1:
            log.warning("import %s: lines %d-%d failed together (%s); crediting each alone", label,
                        rows[0].line, rows[-1].line, exc)
            for row in rows:
                _credit(rt, source, [row], summary, dry_run, label)
            return
        log.exception("import %s: line %d refused", label, rows[0].line)
        summary.rows += 1
        summary.add_error(rows[0].line, f"refused by the database: {type(exc).__name__}")
        return
    if not dry_run:
        log.info("import %s: lines %d-%d: %s", label, rows[0].line, rows[-1].line,
                 ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counted.as_dict().items()
                           if count and name not in ("rows", "errors")))
    summary.add(counted)


def _text(summary: dict[str, Any]) -> str:
    lines = [f"{summary['rows']} row(s): {summary['credited']} credited, {summary['already_known']} already known, "
             f"{summary['already_credited']} already credited in their period, "
             f"{summary['unmapped']} unmapped, {summary['refused']} refused, {len(summary['errors'])} error(s)"
             + (" (dry run: nothing written)" if summary.get("dry_run") else "")]
    lines += [f"  line {e['line']}: {e['reason']}" for e in summary["errors"][:100]]
    if len(summary["errors"]) > 100:
        lines.append(f"  ... and {len(summary['errors']) - 100} more (--json lists them all)")
    return "\n".join(lines)
