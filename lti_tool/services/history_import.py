"""Importing historical completions from a CSV file, through the same rules as a pushed event.

Columns ``user_id,course_id,completed_at`` and optionally ``minutes,name,email`` (a header is
required; UTF-8 with or without a BOM). ``completed_at`` is ISO 8601; a time without an offset is in
the tool's time zone, and a bare ``YYYY-MM-DD`` is noon of that day there, so the date credits as
written. A bad row is reported with its line number (the header is line 1) and never written.

The file is read as a stream and credited in chunks (:func:`read_rows`, :func:`credit_chunk`): each
chunk is one stored event (its rows, as CSV, are the event's body) credited set-based by
:func:`lti_tool.services.completions.credit_events`, so the unique keys decide what is new. A chunk
that brings nothing new leaves no event behind: importing the same file again adds nothing.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, tzinfo
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits.registry import Rulebook
from lti_tool.events.completion import BadEvent, Completion
from lti_tool.row_writes import insert_many
from lti_tool.services.completions import StoredEvent, credit_events

REQUIRED = ("user_id", "course_id", "completed_at")
OPTIONAL = ("minutes", "name", "email")
CONTENT_TYPE = "text/csv; import"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (no header, missing or unknown columns)."""


@dataclass(frozen=True)
class Row:
    line: int
    completion: Completion
    fields: tuple[str, ...]


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


IMPORT_STATUSES = (models.EventStatus.CREDITED, models.EventStatus.DUPLICATE, models.EventStatus.ALREADY_CREDITED,
                   models.EventStatus.UNMAPPED, models.EventStatus.REFUSED)
"""What a row's completion can come to."""


@dataclass
class ImportSummary:
    rows: int = 0
    credited: int = 0
    already_known: int = 0
    """Rows the tool already had: the same completion (learner, course and time) pushed or imported before."""
    already_credited: int = 0
    """Rows that are a later completion of a course already credited in its period (cycle, calendar
    year, or ever for AAPC): stored as completions, earning nothing more."""
    unmapped: int = 0
    refused: int = 0
    """Rows stored as completions whose mapping's plugins all refused credit (each plugin's reason)."""
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: ImportSummary) -> None:
        """Add the counts of ``other`` (a chunk's) to these; errors are recorded where they arise."""
        for name in ("rows", "credited", "already_known", "already_credited", "unmapped", "refused"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def add_error(self, line: int, reason: str) -> None:
        self.errors.append({"line": line, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_rows(lines: Iterable[str], zone: tzinfo, now: datetime | None = None) -> Iterator[Row | BadRow]:
    """Each data row of the CSV text, parsed, or the reason it cannot be imported."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lstrip("\ufeff").lower() for h in next(reader)]
    except StopIteration:
        raise ImportFileError("the file is empty: a header line is required") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(f"the header (line 1) lacks {', '.join(missing)}: columns are "
                              f"{','.join(REQUIRED)} and optionally {','.join(OPTIONAL)}")
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown or len(set(header)) != len(header):
        raise ImportFileError(f"the header (line 1) has unknown or repeated columns: {', '.join(unknown) or header}")
    now = now or datetime.now(UTC)
    width = len(header)
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over the csv module's limit (an unclosed quote runs on)
            lines_read = f"line {start}" if reader.line_num <= start else f"lines {start} to {reader.line_num}"
            yield BadRow(start, f"not readable as CSV ({exc}; an unclosed quote?): nothing of {lines_read} "
                                "was imported")
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1  # a quoted field may span lines: the row's first
        if not any(v.strip() for v in values):
            continue
        if len(values) != width:
            yield BadRow(line, f"{len(values)} fields where the header has {width}")
            continue
        try:
            yield Row(line, _completion(dict(zip(header, values, strict=True)), zone, now), tuple(values))
        except BadEvent as exc:
            yield BadRow(line, str(exc))


def _completion(row: dict[str, str], zone: tzinfo, now: datetime) -> Completion:
    if any("\ufffd" in v for v in row.values()):
        raise BadEvent("not UTF-8 text")
    completed_at = parse_when(row["completed_at"], zone)
    if completed_at > now:
        raise BadEvent(f"completed_at: {row['completed_at'].strip()} is in the future")
    minutes_text = (row.get("minutes") or "").strip()
    minutes = None
    if minutes_text:
        if not (minutes_text.isascii() and minutes_text.isdigit()):  # "²".isdigit(), but int("²") fails
            raise BadEvent(f"minutes: not a whole number of minutes: {minutes_text!r}")
        minutes = int(minutes_text)
    return Completion(lms_user_id=row["user_id"], course_id=row["course_id"], completed_at=completed_at,
                      measured_minutes=minutes, learner_name=(row.get("name") or None),
                      learner_email=(row.get("email") or None))


def parse_when(text: str, zone: tzinfo) -> datetime:
    value = text.strip()
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day, time(12), zone).astimezone(UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent(f"completed_at: not an ISO 8601 date or time: {value!r}") from None
    return (parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed).astimezone(UTC)


def credit_chunk(session: Session, rulebook: Rulebook, source: models.Source, rows: list[Row],
                 summary: ImportSummary, *, label: str) -> None:
    """Store the rows as one event and credit them, in the caller's transaction; count each row."""
    if not rows:
        return
    body = io.StringIO()
    csv.writer(body).writerows(row.fields for row in rows)
    [event_id] = insert_many(session, models.LmsEvent.__table__, [{
        "source_id": source.id, "body": body.getvalue(), "content_type": CONTENT_TYPE, "parsed": [],
        "status": models.EventStatus.PROCESSING, "detail": {"import": label, "lines": [rows[0].line, rows[-1].line]},
        "received_at": models.utcnow(), "attempts": 1}])
    # An award a line at DEBUG: at INFO, a million rows would log two million lines (the command
    # logs each chunk's counts instead).
    [outcome] = credit_events(session, rulebook, [StoredEvent(event_id, source.identity_id,
                                                              [row.completion for row in rows])],
                              award_log_level=logging.DEBUG)
    counts = dict.fromkeys(IMPORT_STATUSES, 0)
    for item in outcome.items:
        counts[models.EventStatus(item["status"])] += 1
    summary.rows += len(rows)
    summary.credited += counts[models.EventStatus.CREDITED]
    summary.already_known += counts[models.EventStatus.DUPLICATE]
    summary.already_credited += counts[models.EventStatus.ALREADY_CREDITED]
    summary.unmapped += counts[models.EventStatus.UNMAPPED]
    summary.refused += counts[models.EventStatus.REFUSED]
    if counts[models.EventStatus.DUPLICATE] == len(rows):  # nothing new: no event left behind
        session.execute(delete(models.LmsEvent).where(models.LmsEvent.id == event_id))
        return
    session.execute(update(models.LmsEvent).where(models.LmsEvent.id == event_id).values(
        status=outcome.status, detail={"import": label, "lines": [rows[0].line, rows[-1].line],
                                       **{k: v for k, v in counts.items() if v}}))
