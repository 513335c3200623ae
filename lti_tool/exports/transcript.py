"""A learner's transcript (built by :mod:`lti_tool.services.transcripts`) and its files: CSV (one row
per award, then the totals per requirement, the non-credit items and outside credit) and PDF (fpdf2,
like the certificates and statements)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from lti_tool.credits import api
from lti_tool.credits.rounding import normalized
from lti_tool.text import csv_cell


@dataclass(frozen=True)
class TranscriptLine:
    award_id: int
    completed_on: date
    course: str
    minutes: int
    amount: str
    unit: str
    category: str | None
    index_number: str | None


@dataclass(frozen=True)
class Transcript:
    learner_name: str
    credential: str
    title: str
    body: str
    number: str | None
    unit: str
    cycle_start: date | None
    cycle_end: date | None
    measured_on: date
    lines: tuple[TranscriptLine, ...]
    requirements: tuple[api.RequirementProgress, ...]
    earned: str
    required: str
    met: bool
    missing: tuple[str, ...] = ()
    items: tuple[tuple[str, str], ...] = ()
    """(non-credit item, its state: confirmed with the date, or not confirmed)."""
    outside: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """(outside activity with its provider, date and status, amount): credit earned outside the LMS."""

    @property
    def cycle(self) -> str:
        if self.cycle_start is None or self.cycle_end is None:
            return "all credit (no renewal cycle)"
        return f"{self.cycle_start.isoformat()} to {self.cycle_end.isoformat()}"


COLUMNS = ("section", "award_id", "completed_on", "course", "contact_minutes", "credit", "unit", "category",
           "index_number", "requirement", "earned", "required", "met", "state")


def transcript_csv(t: Transcript) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for line in t.lines:
        writer.writerow({"section": "award", "award_id": line.award_id, "completed_on": line.completed_on.isoformat(),
                         "course": csv_cell(line.course), "contact_minutes": line.minutes, "credit": line.amount,
                         "unit": csv_cell(line.unit), "category": csv_cell(line.category or ""),
                         "index_number": csv_cell(line.index_number or "")})
    for label, amount in t.outside:
        writer.writerow({"section": "outside credit", "course": csv_cell(label), "credit": amount, "unit": t.unit})
    for r in t.requirements:
        writer.writerow({"section": "requirement", "requirement": csv_cell(r.label), "earned": normalized(r.earned),
                         "required": normalized(r.required), "met": "yes" if r.met else "no", "unit": t.unit,
                         "state": "cap" if r.kind == "cap" else "minimum"})
    for label, state in t.items:
        writer.writerow({"section": "non-credit item", "requirement": csv_cell(label), "state": state})
    return out.getvalue().encode()


def _text(value: str) -> str:
    return value.encode("latin-1", "replace").decode("latin-1")


def transcript_pdf(t: Transcript, issuer: str) -> bytes:
    from fpdf import FPDF  # when a PDF is made: a worker that only takes events does not hold fpdf2 (about 20 MB)

    pdf = FPDF(format="letter")
    pdf.set_title(_text(f"Transcript: {t.title}"))
    pdf.set_creator("lti-tool")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, "Continuing-education transcript", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for label, value in (("Learner", t.learner_name), ("Credential", f"{t.title} ({t.credential})"),
                         ("Certifying body", t.body), ("Member/licence no.", t.number or "none on file"),
                         ("Cycle", t.cycle), ("Measured on", t.measured_on.isoformat()), ("Issued by", issuer)):
        pdf.cell(45, 7, _text(label + ":"))
        pdf.cell(0, 7, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Awards", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    widths = (24, 96, 18, 28, 24)
    for i, head in enumerate(("Completed", "Course", "Minutes", "Credit", "Category")):
        pdf.cell(widths[i], 6, head, border="B")
    pdf.ln()
    for line in t.lines:
        for i, value in enumerate((line.completed_on.isoformat(), line.course[:60], str(line.minutes),
                                   f"{line.amount} {line.unit}"[:18], line.category or "")):
            pdf.cell(widths[i], 6, _text(value))
        pdf.ln()
    if not t.lines:
        pdf.cell(0, 6, "No award in this cycle.", new_x="LMARGIN", new_y="NEXT")
    for label, amount in t.outside:
        pdf.cell(0, 6, _text(f"Outside credit: {label}: {amount} {t.unit}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _text(f"Totals: {t.earned} of {t.required} {t.unit}" + (" (met)" if t.met else "")),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for r in t.requirements:
        kind = "at most" if r.kind == "cap" else "of"
        state = "" if r.kind == "cap" else (" - met" if r.met else " - not met")
        pdf.cell(0, 6, _text(f"{r.label}: {normalized(r.earned)} {kind} {normalized(r.required)} {t.unit}{state}"),
                 new_x="LMARGIN", new_y="NEXT")
    for label, state in t.items:
        pdf.cell(0, 6, _text(f"Non-credit item: {label}: {state}"), new_x="LMARGIN", new_y="NEXT")
    for need in t.missing:
        pdf.cell(0, 6, _text(f"Still needed: {need}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
