"""Whether a learner's claims for a credential can be sent, and if not, what is missing.

A body may require the learner's member or licence number (``number``) and the learner's consent to
report on their behalf (``consent``), as ``config/exports.toml`` says per credential. Claims of a
learner who lacks either wait in the outbox; the learner page can show :func:`missing_for` to say why.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.exports.config import Exports

WHAT = {"number": "member or licence number", "consent": "consent to report to the certifying body"}


def missing_for(session: Session, learner_id: int, credential: str, requires: Iterable[str]) -> list[str]:
    """What the learner still has to give before claims for ``credential`` are sent (empty: ready)."""
    requires = set(requires)
    number = None
    if "number" in requires:
        number = session.scalar(select(models.LearnerCredential.number).where(
            models.LearnerCredential.learner_id == learner_id,
            models.LearnerCredential.credential == credential))
    return missing_given(requires, number=number,
                         consent="consent" in requires and has_consent(session, learner_id, credential))


def missing_given(requires: Iterable[str], *, number: str | None, consent: bool) -> list[str]:
    """:func:`missing_for` of what the caller read already: the number on file and whether consent
    stands (the learner page reads both for all of a learner's credentials at once)."""
    requires = set(requires)
    missing = []
    if "number" in requires and not (number and number.strip()):
        missing.append(WHAT["number"])
    if "consent" in requires and not consent:
        missing.append(WHAT["consent"])
    return missing


def ready_learners(session: Session, learner_ids: Collection[int], credential: str,
                   requires: Iterable[str]) -> set[int]:
    """Of ``learner_ids``, those for whom :func:`missing_for` finds nothing missing, in one query
    per requirement instead of one per learner (the export tick asks this of every pending claim)."""
    ready = set(learner_ids)
    requires = set(requires)
    if "number" in requires and ready:
        ready &= {learner for learner, number in session.execute(
            select(models.LearnerCredential.learner_id, models.LearnerCredential.number)
            .where(models.LearnerCredential.credential == credential,
                   *_among(models.LearnerCredential.learner_id, ready))) if number and number.strip()}
    if "consent" in requires and ready:
        ready &= set(session.scalars(select(models.ReportConsent.learner_id).where(
            models.ReportConsent.credential == credential, models.ReportConsent.withdrawn_at.is_(None),
            *_among(models.ReportConsent.learner_id, ready))))
    return ready


_FEW = 5_000
"""Up to this many learners are named in the query; more are matched against every learner's row."""


def _among(column: Any, learners: set[int]) -> list[Any]:
    return [column.in_(sorted(learners))] if len(learners) <= _FEW else []


def has_consent(session: Session, learner_id: int, credential: str) -> bool:
    consent = session.scalar(select(models.ReportConsent).where(
        models.ReportConsent.learner_id == learner_id, models.ReportConsent.credential == credential))
    return consent is not None and consent.withdrawn_at is None


def consented(session: Session, learner_id: int) -> set[str]:
    """The credentials for which the learner's consent to report stands (:func:`has_consent` of
    each, in one query)."""
    return set(session.scalars(select(models.ReportConsent.credential).where(
        models.ReportConsent.learner_id == learner_id, models.ReportConsent.withdrawn_at.is_(None))))


def consent_recorded(session: Session, learner_id: int, credential: str) -> bool:
    """Whether the learner ever gave (and maybe withdrew) consent for the credential."""
    return session.scalar(select(models.ReportConsent.id).where(
        models.ReportConsent.learner_id == learner_id, models.ReportConsent.credential == credential)) is not None


def set_consent(session: Session, learner_id: int, credential: str, given: bool) -> models.ReportConsent:
    """Record consent (``given``) or its withdrawal; returns the row."""
    consent = session.scalar(select(models.ReportConsent).where(
        models.ReportConsent.learner_id == learner_id, models.ReportConsent.credential == credential))
    now = models.utcnow()
    if consent is None:
        consent = models.ReportConsent(learner_id=learner_id, credential=credential, given_at=now)
        session.add(consent)
    if given:
        consent.given_at, consent.withdrawn_at = now, None
    else:
        consent.withdrawn_at = now
    session.flush()
    return consent


def missing_by_credential(session: Session, exports: Exports, learner_id: int) -> dict[str, list[str]]:
    """For the learner page: per credential with claims or a holding, what is still missing."""
    credentials = set(session.scalars(select(models.Award.credential).where(
        models.Award.learner_id == learner_id)))
    credentials |= set(session.scalars(select(models.LearnerCredential.credential).where(
        models.LearnerCredential.learner_id == learner_id)))
    return {c: missing_for(session, learner_id, c, exports.requires(c))
            for c in sorted(credentials)}
