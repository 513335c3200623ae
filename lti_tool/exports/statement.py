"""The per-learner statement exporter: a PDF and a CSV per learner, for entry in the body's portal
(ACMPE, AAMA, AMT, PAHCOM, PMI, AAPC … take claims self-reported and audit at random)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lti_tool.exports.base import Exporter
from lti_tool.exports.claim import Claim, Rendered
from lti_tool.exports.claims_csv import claims_csv
from lti_tool.exports.documents import statement_pdf


def by_learner(claims: Sequence[Claim]) -> dict[str, list[Claim]]:
    groups: dict[str, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.learner_lms_id, []).append(claim)
    return groups


def safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", part)[:80]


def render_statement(name: str, claims: Sequence[Claim]) -> list[Rendered]:
    """The statement of one learner's claims: ``<name>.pdf`` and ``<name>.csv``."""
    return [
        Rendered(f"{name}.pdf", "application/pdf", statement_pdf(claims)),
        Rendered(f"{name}.csv", "text/csv", claims_csv(list(claims))),
    ]


class StatementExporter(Exporter):
    """Per-learner statement (PDF and CSV) listing each claim ready to enter in the portal."""

    identifier = "statement"
    verbose_name = "Learner statement (PDF and CSV)"

    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        files: list[Rendered] = []
        for learner, group in sorted(by_learner(claims).items()):
            files += render_statement(f"{name}-learner-{safe(learner)}-statement", group)
        return files
