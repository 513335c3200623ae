"""The claims CSV exporter: one row per claim, in claim order; every cell through
:func:`lti_tool.text.csv_cell` (no spreadsheet formulas)."""

from __future__ import annotations

import csv
import io

from lti_tool.exports.base import Exporter
from lti_tool.exports.claim import Claim, Rendered
from lti_tool.text import csv_cell

COLUMNS = (
    "claim_key", "entry", "award_id", "credential", "learner_id", "learner_name", "learner_email",
    "member_number", "source", "course_id", "course_title", "completed_at", "contact_minutes",
    "credit", "unit", "category", "index_number", "rule_version",
)


def claim_cells(c: Claim) -> list[str]:
    """One claim's row under :data:`COLUMNS`, every cell formula-safe."""
    return [csv_cell(cell) for cell in (
        c.idempotency_key, c.entry_kind, c.award_id, c.credential, c.learner_lms_id,
        c.learner_name or "", c.learner_email or "", c.member_number or "", c.source,
        c.course_id, c.course_title or "", c.completed_at.isoformat(), c.minutes,
        str(c.amount), c.unit, c.category or "", c.index_number or "", c.rule_version,
    )]


def claims_csv(claims: list[Claim]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for c in claims:
        writer.writerow(claim_cells(c))
    return buffer.getvalue().encode("utf-8")


def render_claims_csv(batch_name: str, claims: list[Claim]) -> Rendered:
    return Rendered(f"{batch_name}.csv", "text/csv", claims_csv(claims))


class ClaimsCsvExporter(Exporter):
    """Per-credential claims CSV: one row per award or reversal (learner, member/licence number,
    course, completion date, contact minutes, credit, unit, category, index number, rule version)."""

    identifier = "claims-csv"
    verbose_name = "Claims CSV"

    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        return [render_claims_csv(name, claims)]
