"""What the instructor page shows: the course's learners and the credit each earned."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.services.awards import list_awards
from lti_tool.text import csv_cell

CSV_COLUMNS = ("learner", "learner_name", "credential", "credential_name", "amount", "unit", "category",
               "completed_at")


def course_rows(session: Session, *, source_id: int | None, course_id: str | None,
                query: str = "", names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per learner and credential: total standing credit earned in this course.

    ``names``: credential id -> its name (CMA, CMPE …), shown and searched beside the id."""
    names = names or {}
    if source_id is None or course_id is None:
        return []
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    needle = query.strip().lower()
    for award in list_awards(session, source_id=source_id, course=course_id):
        if award["revoked"]:
            continue
        name = names.get(award["credential"], award["credential"])
        haystack = f"{award['learner']} {award['learner_name'] or ''} {award['credential']} {name}".lower()
        if needle and needle not in haystack:
            continue
        key = (award["learner"], award["credential"], award["unit"])
        row = totals.setdefault(key, {
            "learner": award["learner"], "learner_name": award["learner_name"] or "",
            "credential": award["credential"], "credential_name": name, "amount": Decimal(0),
            "unit": award["unit"],
            "category": award["category"] or "", "completed_at": award["completed_at"][:10],
        })
        row["amount"] += Decimal(award["amount"])
        row["completed_at"] = max(row["completed_at"], award["completed_at"][:10])
    return sorted(totals.values(), key=lambda r: (r["learner_name"], r["learner"], r["credential"]))


def render_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(row[k]) for k in CSV_COLUMNS})  # no spreadsheet formulas
    return out.getvalue()
