"""PDF documents of exports: a certificate per training and a learner's statement (fpdf2).

Deterministic: the creation date is fixed to the latest completion, so re-rendering a batch on a
retry gives the same bytes. fpdf2's core fonts are Latin-1, so other characters become ``?``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from lti_tool.credits.rounding import normalized
from lti_tool.exports.claim import Claim, StatementFor
from lti_tool.exports.outside_line import OutsideLine
from lti_tool.exports.qr import draw_qr, verify_url
from lti_tool.states import EntryKind, OutsideStatus

if TYPE_CHECKING:
    from fpdf import FPDF


def _text(value: object) -> str:
    return str(value).encode("latin-1", "replace").decode("latin-1")


def _document(when: datetime, title: str) -> FPDF:
    from fpdf import FPDF  # when a PDF is made: a worker that only takes events does not hold fpdf2 (about 20 MB)

    pdf = FPDF()
    pdf.set_creation_date(when)
    pdf.set_title(_text(title))
    pdf.set_creator("lti-tool")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def _line(pdf: FPDF, text: str, size: int = 11, style: str = "") -> None:
    pdf.set_font("Helvetica", style=style, size=size)
    pdf.multi_cell(0, size * 0.6, _text(text), new_x="LMARGIN", new_y="NEXT")


def course_name(claim: Claim) -> str:
    return claim.course_title or f"course {claim.course_id}"


def certificate_pdf(claim: Claim, public_base: str | None = None) -> bytes:
    """A certificate of completion for one training, with the credit and the licence number, and
    (with ``public_base`` and the claim's certificate code) its verification URL and QR code."""
    pdf = _document(claim.completed_at, f"Certificate {claim.idempotency_key[:12]}")
    url = verify_url(public_base, claim.verify_code)
    if url:
        draw_qr(pdf, url, size=28)
    _line(pdf, "Certificate of completion", 22, "B")
    pdf.ln(6)
    _line(pdf, f"This certifies that {claim.learner_name or claim.learner_lms_id}", 13)
    _line(pdf, f"completed {course_name(claim)}", 13)
    _line(pdf, f"on {claim.completed_at:%Y-%m-%d} ({claim.minutes} contact minutes).", 13)
    pdf.ln(4)
    _line(pdf, f"Credential: {claim.credential}")
    _line(pdf, f"Licence/member number: {claim.member_number or '(none on file)'}")
    _line(pdf, f"Credit: {claim.amount} {claim.unit}")
    if claim.category:
        _line(pdf, f"Category: {claim.category}")
    if claim.index_number:
        _line(pdf, f"Index number: {claim.index_number}")
    _line(pdf, f"Source: {claim.source}, course id {claim.course_id}")
    _line(pdf, f"Rule version: {claim.rule_version}")
    _line(pdf, f"Claim key: {claim.idempotency_key}", 8)
    if url:
        _line(pdf, f"Verify at: {url}", 9)
    return bytes(pdf.output())


def statement_pdf(claims: Sequence[Claim], title: str = "Continuing-education statement", *,
                  outside: Sequence[OutsideLine] = (), learner: StatementFor | None = None) -> bytes:
    """A learner's statement: one line per claim, ready to enter in the body's portal, and their
    total; then (``outside``) the credit they earned outside the LMS, each line marked
    self-reported or verified, with its own total: the learner's claim, never the tool's."""
    who = learner or StatementFor.of(claims[0])
    dates = [c.completed_at for c in claims] + [datetime.combine(o.on, time(), UTC) for o in outside]
    pdf = _document(max(dates), title)
    _line(pdf, title, 18, "B")
    _line(pdf, f"Learner: {who.learner} ({who.email or 'no e-mail'})")
    _line(pdf, f"Credential: {who.credential}   Member/licence number: {who.member_number or '(none on file)'}")
    pdf.ln(3)
    for c in claims:
        entry = "REVERSAL " if c.entry_kind == EntryKind.REVERSAL else ""
        _line(pdf, f"{c.completed_at:%Y-%m-%d}  {entry}{course_name(c)}: {c.minutes} min, "
                   f"{c.amount} {c.unit}" + (f", {c.category}" if c.category else "")
                   + (f", index {c.index_number}" if c.index_number else ""), 10)
    unit = claims[0].unit if claims else outside[0].unit
    if claims:
        total = normalized(sum((c.amount for c in claims), start=Decimal(0)))
        pdf.ln(2)
        _line(pdf, f"Total: {total} {unit}" + (" claimed by the tool" if outside else ""), 11, "B")
    if outside:
        pdf.ln(4)
        _line(pdf, "Credit earned outside the LMS (the learner's own claims, not the tool's)", 12, "B")
        for o in outside:
            _line(pdf, f"{o.on:%Y-%m-%d}  {o.title} ({o.provider}): {o.minutes} min, {o.amount} {o.unit}"
                       + (f", {o.category}" if o.category else "") + f" - {o.marked}", 10)
        outside_total = normalized(sum((o.amount for o in outside), start=Decimal(0)))
        unverified = normalized(sum((o.amount for o in outside if o.status != OutsideStatus.VERIFIED),
                                    start=Decimal(0)))
        pdf.ln(2)
        _line(pdf, f"Total outside the LMS: {outside_total} {unit}, of which self-reported: {unverified} {unit}",
              11, "B")
    return bytes(pdf.output())


def outside_statement_pdf(learner: str, credential: str, rows: Sequence[tuple[str, str, str, str, str]]) -> bytes:
    """The learner's credit from outside the LMS, each line (date, title, provider, credit, status),
    for the audit packet: the learner claims it with the body themselves; the tool never does."""
    pdf = _document(datetime.fromisoformat(max(r[0] for r in rows)), "Credit earned outside the LMS")
    _line(pdf, "Credit earned outside the LMS", 18, "B")
    _line(pdf, f"Learner: {learner}   Credential: {credential}")
    _line(pdf, "Self-reported unless verified by an administrator; not claimed by the tool.", 9)
    pdf.ln(3)
    for on, title, provider, credit, status in rows:
        _line(pdf, f"{on}  {title} ({provider}): {credit}, {status}", 10)
    return bytes(pdf.output())
