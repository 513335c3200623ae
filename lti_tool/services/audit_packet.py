"""The audit packet: everything a learner picked for a random audit needs, in one ZIP.

``statement.pdf`` / ``statement.csv`` (the claims of the cycle, then the outside credit that
counts, each line marked self-reported or verified), ``certificates/*.pdf`` (one per
training), ``evidence/award-<id>.json`` (the award with its activity facts, rule version and
settings, the course mapping, the completion and the learner's own part of the stored LMS event,
with the digest of the whole body: :mod:`lti_tool.services.evidence`) and
``README.txt`` saying what each file is.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits.cycles import add_months
from lti_tool.exports.claim import StatementFor
from lti_tool.exports.documents import certificate_pdf
from lti_tool.exports.remittance import certificate_name
from lti_tool.exports.statement import render_statement
from lti_tool.services.evidence import learner_evidence
from lti_tool.services.export_claims import claims_where
from lti_tool.services.learners import LearnerError, LearnerKey, find_learner
from lti_tool.services.outside_evidence import add_outside_credit, outside_lines
from lti_tool.text import one_line

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class LearnerNotFound(LearnerError):
    """No such learner (a :class:`~lti_tool.services.learners.LearnerError`, as every lookup of a
    learner raises)."""


@dataclass(frozen=True)
class AuditPacket:
    filename: str
    content: bytes
    files: list[str]


def _add(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, content)


def award_evidence(session: Session, award: models.Award) -> dict[str, Any]:
    completion = session.get(models.CourseCompletion, award.completion_id)
    event = session.get(models.LmsEvent, completion.event_id) if completion else None
    source = session.get(models.Source, award.source_id)
    learner = session.get(models.Learner, award.learner_id)
    mapping = session.scalar(select(models.CourseMapping).where(
        models.CourseMapping.source_id == award.source_id, models.CourseMapping.course_id == award.course_id))
    entries = session.scalars(select(models.LedgerEntry).where(models.LedgerEntry.award_id == award.id)
                              .order_by(models.LedgerEntry.id))
    return {
        "award": {"id": award.id, "credential": award.credential, "revision": award.revision,
                  "amount": str(award.amount), "unit": award.unit, "category": award.category,
                  "index_number": award.index_number, "reason": award.reason, "tags": award.tags,
                  "minutes": award.minutes, "completed_at": award.completed_at.isoformat(),
                  "rule_version": award.rule_version, "activity": award.activity,
                  "settings": award.settings},
        "ledger": [{"kind": e.kind, "amount": str(e.amount), "reason": e.reason,
                    "at": e.created_at.isoformat()} for e in entries],
        "mapping": None if mapping is None else {
            "course_id": mapping.course_id, "title": mapping.title, "minutes": mapping.minutes,
            "activity": mapping.activity, "facts": mapping.facts, "credentials": mapping.credentials},
        "completion": None if completion is None else {
            "course_id": completion.course_id, "course_name": completion.course_name,
            "completed_at": completion.completed_at.isoformat(),
            "measured_minutes": completion.measured_minutes},
        "lms_event": None if event is None or learner is None or source is None else {
            "id": event.id, "received_at": event.received_at.isoformat(),
            "content_type": event.content_type,
            **learner_evidence(event.body, source.kind, learner.lms_user_id, award.course_id)},
    }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


def build_audit_packet(
    session: Session, key: LearnerKey, credential: str, cycle_start: date | None = None,
    cycle_months: int | None = None, public_base: str | None = None, *, instance_dir: Path | None = None,
) -> AuditPacket:
    """The packet for one learner and credential: with ``cycle_start``, the awards completed in the
    cycle that starts that day (``cycle_months`` long; open-ended without), else all of them; and
    the outside credit of the same days, with its certificates from ``instance_dir``.
    ``public_base``: the tool's URL, so each certificate prints its verification URL and QR code
    (for awards with a code: :func:`lti_tool.services.verification.ensure_learner_codes`)."""
    learner = find_learner(session, key)
    if learner is None:
        raise LearnerNotFound(f"no learner {key.lms_user_id!r} in source {key.identity_id}")
    where = [models.Award.learner_id == learner.id, models.Award.credential == credential]
    cycle_end = add_months(cycle_start, cycle_months) if cycle_start and cycle_months else None
    if cycle_start is not None:
        where.append(models.Award.completed_at >= _midnight(cycle_start))
    if cycle_end is not None:
        where.append(models.Award.completed_at < _midnight(cycle_end))
    claims = claims_where(session, *where)
    buffer = io.BytesIO()
    names: list[str] = []
    with zipfile.ZipFile(buffer, "w") as archive:
        def add(name: str, content: bytes) -> None:
            _add(archive, name, content)
            names.append(name)

        add("README.txt", readme(learner, credential, cycle_start, cycle_end, len(claims)).encode())
        outside = outside_lines(session, learner_id=learner.id, credential=credential, start=cycle_start,
                                end=cycle_end)
        if claims or outside:
            for rendered in render_statement("statement", claims, outside, _statement_for(session, learner, credential),
                                             one_line(learner.lms_user_id)):
                add(rendered.filename, rendered.content)
        for claim in claims:
            if claim.entry_kind == models.EntryKind.CREDIT:
                add(f"certificates/{certificate_name(claim)}", certificate_pdf(claim, public_base))
        awards = session.scalars(select(models.Award).where(*where).order_by(models.Award.id))
        for award in awards:
            add(f"evidence/award-{award.id}.json",
                json.dumps(award_evidence(session, award), indent=2, sort_keys=True).encode())
        add_outside_credit(session, add, learner_id=learner.id, credential=credential, start=cycle_start,
                           end=cycle_end, instance_dir=instance_dir)
    since = f"-since-{cycle_start}" if cycle_start else ""
    return AuditPacket(f"audit-{credential}-{key.identity_id}-{key.lms_user_id}{since}.zip", buffer.getvalue(), names)


def _statement_for(session: Session, learner: models.Learner, credential: str) -> StatementFor:
    number = session.scalar(select(models.LearnerCredential.number).where(
        models.LearnerCredential.learner_id == learner.id, models.LearnerCredential.credential == credential))
    email = one_line(learner.email) if learner.email else None
    return StatementFor(one_line(learner.name or learner.lms_user_id), email, credential,
                        one_line(number) if number else None)


def readme(learner: models.Learner, credential: str, cycle_start: date | None, cycle_end: date | None,
           count: int) -> str:
    cycle = "all awards"
    if cycle_start:
        cycle = f"from {cycle_start}" + (f" to {cycle_end - timedelta(days=1)}" if cycle_end else "")
    return (
        f"Audit packet: {credential} for {learner.name or learner.lms_user_id} "
        f"(LMS user {learner.lms_user_id})\n"
        f"Cycle: {cycle}; {count} claim(s).\n\n"
        "statement.pdf / statement.csv  the claims, as entered in the body's portal, then the credit\n"
        "                               earned outside the LMS that counts, marked self-reported or\n"
        "                               verified (the learner's own claims, not the tool's)\n"
        "certificates/                  a certificate of completion per training\n"
        "evidence/award-<id>.json       the award, how it was computed (activity facts, rule version,\n"
        "                               settings), the course mapping, the completion and your part\n"
        "                               of the LMS event (with the SHA-256 of the event as received)\n"
        "outside-credit.pdf / .csv      credit the learner earned outside the LMS (if any), its status\n"
        "                               (self-reported, verified, rejected); never claimed by the tool\n"
        "outside/                       each outside activity's facts and the certificate uploaded\n"
    )
