"""A PDF certificate for one award: what a certifying body's audit asks a learner to show.

Rendered with fpdf2 (pure Python, maintained, no system libraries, deterministic output). The
certificate names the course, the completion date, the contact time, the credit and its unit, the
approving body's index number when there is one, the learner's member or licence number when the body
asks for it, and the proof the body requires: the plugin's ``proof`` text when its rule has one, else
a statement built from what the rule declares (its body, credential and learner fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lti_tool import models
from lti_tool.credits import api
from lti_tool.exports.qr import draw_qr

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
    body: str | None = None
    number: str | None = None
    approved_by: str | None = None
    verify_url: str | None = None
    """Where anyone can check the certificate (``/verify/<code>``); printed and as a QR code."""
    issuer: str | None = None
    """The issuing organisation (``[certificates] issuer_name``)."""


def required_proof(rule: api.CreditRule | None, index_number: str | None) -> str:
    """What the certifying body asks a learner to keep or show for this credit."""
    own = getattr(rule, "proof", None) if rule is not None else None
    if isinstance(own, str) and own.strip():
        return own
    if rule is None:
        return GENERAL_PROOF
    shows = ["the program title", "the date", "the contact time", f"the {rule.unit} awarded"]
    if "number" in rule.learner_fields:
        shows.append("your member or licence number")
    if index_number:
        shows.append("the approving body's index number")
    return (f"Proof required by {rule.body} for {rule.title}: a certificate of completion showing "
            + ", ".join(shows[:-1]) + " and " + shows[-1] + ". " + GENERAL_PROOF)


def for_award(award: dict[str, Any], mapping: models.CourseMapping | None, rule: api.CreditRule | None,
              number: str | None, verify_url: str | None = None, issuer: str | None = None) -> Certificate:
    """The certificate of one award as :func:`lti_tool.services.awards.list_awards` describes it."""
    facts = mapping.facts if mapping is not None else {}
    approved = ", ".join(facts.get("approved_by") or []) or None
    return Certificate(
        learner_name=award["learner_name"] or "", learner_id=award["learner"],
        course=(mapping.title if mapping and mapping.title else f"Course {award['course']}"),
        completed_on=award["completed_at"][:10], minutes=award["minutes"],
        credential=(f"{rule.title} ({award['credential']})" if rule else award["credential"]),
        amount=award["amount"], unit=award["unit"], index_number=award["index_number"],
        award_id=award["id"], proof=required_proof(rule, award["index_number"]),
        body=rule.body if rule else None,
        number=number or None,
        approved_by=approved,
        verify_url=verify_url,
        issuer=issuer or None,
    )


def _text(value: str) -> str:
    """Core PDF fonts are Latin-1; anything else becomes '?' rather than failing."""
    return value.encode("latin-1", "replace").decode("latin-1")


def render_certificate(cert: Certificate) -> bytes:
    """The certificate as a tagged PDF: a screen reader reads the title, the statement and each
    field ("Date completed: 2026-11-02") in order, as a sighted reader does."""
    from lti_tool.web.views.tagged_pdf import TaggedPDF  # fpdf2 (about 20 MB) when a PDF is made

    pdf = TaggedPDF(orientation="landscape", format="letter")
    pdf.set_title(_text(f"Certificate of completion: {cert.course}"))
    pdf.set_subject(_text(f"{cert.amount} {cert.unit}, {cert.credential}"))
    pdf.set_author(_text(cert.issuer or "lti-tool"))
    pdf.set_creator("lti-tool")
    pdf.add_page()
    if cert.issuer:
        pdf.set_font("Helvetica", "B", 14)
        with pdf.tagged("P"):
            pdf.cell(0, 9, _text(cert.issuer), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 26)
    with pdf.tagged("H1"):
        pdf.cell(0, 18, "Certificate of Completion", align="C", new_x="LMARGIN", new_y="NEXT")
    for style, size, height, line in (("", 14, 10, "This certifies that"),
                                      ("B", 20, 14, cert.learner_name or f"LMS user {cert.learner_id}"),
                                      ("", 14, 10, "completed"), ("B", 16, 10, cert.course)):
        pdf.set_font("Helvetica", style, size)
        with pdf.tagged("P"):
            pdf.multi_cell(0, height, _text(line), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 12)
    rows = [
        ("Date completed", cert.completed_on),
        ("Contact time", f"{cert.minutes} minutes"),
        ("Credit awarded", f"{cert.amount} {cert.unit}"),
        ("Credential", cert.credential),
        ("Certifying body", cert.body or "-"),
        ("Member/licence no.", cert.number or "none on file"),
        ("Approved by", cert.approved_by or "-"),
        ("Index number", cert.index_number or "none given by the approving body"),
        ("Issued by", cert.issuer or "-"),
        ("Award reference", f"#{cert.award_id}"),
    ]
    if cert.verify_url:
        rows.append(("Verify at", cert.verify_url))
        draw_qr(pdf, cert.verify_url)
    for label, value in rows:
        with pdf.tagged("P"):
            pdf.set_x(60)
            pdf.cell(55, 8, _text(label + ": "))
            pdf.cell(0, 8, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 10)
    with pdf.tagged("P"):
        pdf.multi_cell(0, 6, _text(cert.proof or GENERAL_PROOF), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
