"""A PDF certificate for one award: what a certifying body's audit asks a learner to show.

Rendered with fpdf2 (pure Python, maintained, no system libraries, deterministic output). The
certificate names the course, the completion date, the contact time, the credit and its unit, the
approving body's index number when there is one, and the proof the body requires: the plugin's
``proof`` text when its rule has one, else the general audit statement below.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF

GENERAL_PROOF = (
    "Keep this certificate with your recertification records. The certifying body may audit your "
    "renewal and ask for proof of completion showing the program title, the date, the contact time "
    "and the credit awarded."
)


@dataclass(frozen=True)
class Certificate:
    learner_name: str
    learner_id: str
    course: str
    completed_on: str
    minutes: int
    credential: str
    amount: str
    unit: str
    index_number: str | None
    award_id: int
    proof: str | None = None


def _text(value: str) -> str:
    """Core PDF fonts are Latin-1; anything else becomes '?' rather than failing."""
    return value.encode("latin-1", "replace").decode("latin-1")


def render_certificate(cert: Certificate) -> bytes:
    pdf = FPDF(orientation="landscape", format="letter")
    pdf.set_title(_text(f"Certificate of completion: {cert.course}"))
    pdf.set_creator("lti-tool")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 26)
    pdf.cell(0, 18, "Certificate of Completion", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(0, 10, "This certifies that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 14, _text(cert.learner_name or f"LMS user {cert.learner_id}"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(0, 10, "completed", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 10, _text(cert.course), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 12)
    rows = [
        ("Date completed", cert.completed_on),
        ("Contact time", f"{cert.minutes} minutes"),
        ("Credit awarded", f"{cert.amount} {cert.unit}"),
        ("Credential", cert.credential),
        ("Index number", cert.index_number or "none given by the approving body"),
        ("Award reference", f"#{cert.award_id}"),
    ]
    for label, value in rows:
        pdf.set_x(60)
        pdf.cell(55, 8, _text(label + ":"))
        pdf.cell(0, 8, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 10)
    pdf.multi_cell(0, 6, _text(cert.proof or GENERAL_PROOF), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
