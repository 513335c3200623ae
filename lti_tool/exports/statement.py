"""The per-learner statement exporter: a PDF and a CSV per learner, for entry in the body's portal
(ACMPE, AAMA, AMT, PAHCOM, PMI, AAPC … take claims self-reported and audit at random).

The statement an exporter delivers holds the tool's claims only. The statement of the audit packet
(:mod:`lti_tool.services.audit_packet`) also lists the learner's credit from outside the LMS, each
line marked self-reported or verified and kept apart from the tool's total: it is the learner's
own claim, never the tool's.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from lti_tool.exports.base import Exporter
from lti_tool.exports.claim import Claim, Rendered, StatementFor
from lti_tool.exports.claims_csv import COLUMNS, claim_cells
from lti_tool.exports.documents import statement_pdf
from lti_tool.exports.outside_line import OutsideLine
from lti_tool.text import csv_cell

STATEMENT_COLUMNS = (*COLUMNS, "provider", "claimed_by")
TOOL_CLAIM = "the tool"
OUTSIDE_SOURCE = "outside the LMS"


def by_learner(claims: Sequence[Claim]) -> dict[str, list[Claim]]:
    groups: dict[str, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.learner_lms_id, []).append(claim)
    return groups


def safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", part)[:80]


def statement_csv(claims: Sequence[Claim], outside: Sequence[OutsideLine] = (),
                  learner: StatementFor | None = None, learner_lms_id: str = "") -> bytes:
    """The claims' columns, then ``provider`` and ``claimed_by``: ``the tool`` for each claim, and
    for outside credit ``outside credit, self-reported`` or ``… verified by an administrator``
    (no claim key, no award id: it is not a claim of the tool's)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(STATEMENT_COLUMNS)
    for claim in claims:
        writer.writerow([*claim_cells(claim), "", TOOL_CLAIM])
    who = learner or (StatementFor.of(claims[0]) if claims else None)
    lms_id = claims[0].learner_lms_id if claims else learner_lms_id
    for line in outside:
        writer.writerow(csv_cell(cell) for cell in (
            "", "outside", "", who.credential if who else "", lms_id, who.learner if who else "",
            (who.email or "") if who else "", (who.member_number or "") if who else "", OUTSIDE_SOURCE,
            f"outside:{line.outside_id}", line.title, line.on.isoformat(), line.minutes, str(line.amount),
            line.unit, line.category or "", line.index_number or "", "", line.provider, line.marked))
    return buffer.getvalue().encode("utf-8")


def render_statement(name: str, claims: Sequence[Claim], outside: Sequence[OutsideLine] = (),
                     learner: StatementFor | None = None, learner_lms_id: str = "") -> list[Rendered]:
    """The statement of one learner's claims: ``<name>.pdf`` and ``<name>.csv``; with ``outside``,
    the learner's outside credit after them, marked (``learner``: whom it is for when there is no
    claim to read it from)."""
    return [
        Rendered(f"{name}.pdf", "application/pdf", statement_pdf(claims, outside=outside, learner=learner)),
        Rendered(f"{name}.csv", "text/csv", statement_csv(claims, outside, learner, learner_lms_id)),
    ]


class StatementExporter(Exporter):
    """Per-learner statement (PDF and CSV) listing each claim ready to enter in the portal."""

    identifier = "statement"
    verbose_name = "Learner statement (PDF and CSV)"
    certificate_codes = False

    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        files: list[Rendered] = []
        for learner, group in sorted(by_learner(claims).items()):
            files += render_statement(f"{name}-learner-{safe(learner)}-statement", group)
        return files
