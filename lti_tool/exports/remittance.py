"""The ACMSS remittance: an e-mail body naming each learner's CMSS licence number and trainings,
with a certificate PDF per training attached (seed 002: claims are remitted by e-mail to ACMSS
Licensing Services with the licence number and the proof of contact hours)."""

from __future__ import annotations

from lti_tool.exports.base import Exporter
from lti_tool.exports.claim import Claim, Rendered
from lti_tool.exports.documents import certificate_pdf, course_name
from lti_tool.exports.statement import by_learner
from lti_tool.states import EntryKind


def certificate_name(claim: Claim) -> str:
    return f"certificate-{claim.award_id}-{claim.entry_kind}-{claim.idempotency_key[:12]}.pdf"


def remittance_body(claims: list[Claim]) -> str:
    lines = ["Dear ACMSS Licensing Services,", "",
             "please record the following continuing medical education for the CMSS licensees below.",
             "A certificate for each training is attached.", ""]
    for learner, group in sorted(by_learner(claims).items()):
        first = group[0]
        lines.append(f"{first.learner_name or learner} - CMSS licence number {first.member_number}")
        for c in group:
            word = "WITHDRAWN" if c.entry_kind == EntryKind.REVERSAL else "completed"
            lines.append(f"  - {word} {c.completed_at:%Y-%m-%d}: {course_name(c)}, {c.minutes} minutes, "
                         f"{c.amount} {c.unit}" + (f", index {c.index_number}" if c.index_number else "")
                         + f" (attachment {certificate_name(c)})")
        lines.append("")
    lines += [f"Reference: {len(claims)} claim(s).", ""]
    return "\n".join(lines)


class AcmssRemittanceExporter(Exporter):
    """ACMSS remittance: e-mail body with each CMSS licence number, plus a certificate PDF per training."""

    identifier = "acmss-remittance"
    verbose_name = "ACMSS remittance (e-mail with certificates)"
    certificate_codes = True  # each certificate PDF prints its verification URL and QR code

    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        files = [Rendered(f"{name}-remittance.txt", "text/plain", remittance_body(claims).encode("utf-8"))]
        files += [Rendered(certificate_name(c), "application/pdf", certificate_pdf(c, self.public_base))
                  for c in claims if c.entry_kind == EntryKind.CREDIT]
        return files

    def message(self, credential: str, claims: list[Claim]) -> tuple[str, str]:
        return (f"CMSS continuing education: {len(claims)} claim(s)", remittance_body(claims))
