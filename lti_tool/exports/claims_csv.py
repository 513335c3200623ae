"""The claims CSV exporter: one row per claim, in claim order; every cell through
:func:`lti_tool.text.csv_cells` (no spreadsheet formulas)."""

from __future__ import annotations

import csv
import io

from lti_tool.exports.base import Exporter
from lti_tool.exports.claim import Claim, Rendered
from lti_tool.text import csv_cells

COLUMNS = (
    "claim_key", "entry", "award_id", "credential", "learner_id", "learner_name", "learner_email",
    "member_number", "source", "course_id", "course_title", "completed_at", "contact_minutes",
    "credit", "unit", "category", "index_number", "rule_version",
)


def claim_cells(c: Claim) -> list[str]:
    """One claim's row under :data:`COLUMNS`, every cell formula-safe."""
    return csv_cells([
        str(c.idempotency_key), str(c.entry_kind), str(c.award_id), str(c.credential), str(c.learner_lms_id),
        c.learner_name or "", c.learner_email or "", c.member_number or "", str(c.source),
        str(c.course_id), c.course_title or "", c.completed_at.isoformat(), str(c.minutes),
        str(c.amount), str(c.unit), c.category or "", c.index_number or "", str(c.rule_version),
    ])


def claims_csv(claims: list[Claim]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([claim_cells(c) for c in claims])
    return buffer.getvalue().encode("utf-8")


def render_claims_csv(batch_name: str, claims: list[Claim]) -> Rendered:
    return Rendered(f"{batch_name}.csv", "text/csv", claims_csv(claims))


class ClaimsCsvExporter(Exporter):
    """Per-credential claims CSV: one row per award or reversal (learner, member/licence number,
    course, completion date, contact minutes, credit, unit, category, index number, rule version)."""

    identifier = "claims-csv"
    verbose_name = "Claims CSV"
    certificate_codes = False

    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        return [render_claims_csv(name, claims)]
