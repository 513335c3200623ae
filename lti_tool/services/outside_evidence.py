"""Outside credit in the audit packet: a list of it, each activity's facts as evidence, and the
certificate the learner uploaded (bodies audit self-reported credit by its certificate)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.exports.documents import outside_statement_pdf
from lti_tool.exports.outside_line import OutsideLine
from lti_tool.services.certificate_files import read_certificate
from lti_tool.states import OutsideStatus
from lti_tool.text import csv_cell, one_line

COLUMNS = ("id", "date", "title", "provider", "minutes", "activity", "amount", "unit", "status", "reason",
           "certificate")


def _outside_rows(session: Session, learner_id: int, credential: str, start: date | None,
                  end: date | None) -> list[models.OutsideCredit]:
    where = [models.OutsideCredit.learner_id == learner_id, models.OutsideCredit.credential == credential]
    if start is not None:
        where.append(models.OutsideCredit.activity_on >= start)
    if end is not None:
        where.append(models.OutsideCredit.activity_on < end)
    return list(session.scalars(select(models.OutsideCredit).where(*where)
                                .order_by(models.OutsideCredit.activity_on, models.OutsideCredit.id)))


def outside_lines(session: Session, *, learner_id: int, credential: str, start: date | None,
                  end: date | None) -> list[OutsideLine]:
    """The learner's outside credit of the credential dated in [start, end) that counts (rejected
    left out), as the statement lists it: each line marked self-reported or verified."""
    return [
        OutsideLine(outside_id=r.id, on=r.activity_on, title=one_line(r.title), provider=one_line(r.provider),
                    minutes=r.minutes, amount=r.amount, unit=r.unit, category=r.category,
                    index_number=r.index_number, status=OutsideStatus(r.status))
        for r in _outside_rows(session, learner_id, credential, start, end) if r.status != OutsideStatus.REJECTED
    ]


def add_outside_credit(session: Session, add: Callable[[str, bytes], None], *, learner_id: int, credential: str,
                       start: date | None, end: date | None, instance_dir: Path | None) -> int:
    """Add ``outside-credit.pdf`` and ``.csv``, ``outside/outside-<id>.json`` and ``outside/certificate-<id>.<ext>``
    for the learner's outside credit of the credential dated in [start, end); rejected included
    (with its reason: an auditor sees what was claimed). Returns how many activities were added."""
    rows = _outside_rows(session, learner_id, credential, start, end)
    if not rows:
        return 0
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(COLUMNS)
    for row in rows:
        certificate = None
        if row.certificate_file and instance_dir is not None:
            certificate = f"outside/certificate-{row.id}{Path(row.certificate_file).suffix}"
            add(certificate, read_certificate(instance_dir, row.certificate_file))
        writer.writerow(csv_cell(cell) for cell in (
            row.id, row.activity_on.isoformat(), row.title, row.provider, row.minutes, row.activity.get("type"),
            str(row.amount), row.unit, row.status, row.status_reason or row.reason, certificate or ""))
        add(f"outside/outside-{row.id}.json", json.dumps({
            "id": row.id, "credential": row.credential, "title": row.title, "provider": row.provider,
            "date": row.activity_on.isoformat(), "minutes": row.minutes, "activity": row.activity,
            "amount": str(row.amount), "unit": row.unit, "category": row.category,
            "index_number": row.index_number, "tags": row.tags, "reason": row.reason,
            "rule_version": row.rule_version, "settings": row.settings, "status": row.status,
            "status_reason": row.status_reason, "recorded_by": row.recorded_by,
            "recorded_at": row.created_at.isoformat(),
            "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        }, indent=2, sort_keys=True).encode())
    add("outside-credit.csv", table.getvalue().encode())
    learner = session.get(models.Learner, learner_id)
    who = (learner.name or learner.lms_user_id) if learner else str(learner_id)
    add("outside-credit.pdf", outside_statement_pdf(who, credential, [
        (r.activity_on.isoformat(), r.title, r.provider, f"{r.amount} {r.unit}",
         r.status + (f" ({r.status_reason})" if r.status_reason else "")) for r in rows]))
    return len(rows)

