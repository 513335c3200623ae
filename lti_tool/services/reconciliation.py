"""Reconciliation: asking each connected source's LMS for its completions, so none is lost.

Push paths lose completions (Canvas Live Events give up after a few retries, Moodle webhook plugins
post once, an LRS forward may drop). A run asks the LMS for the completions of every mapped course
and hands each one it does not know yet to the same ingestion path as a pushed event
(:func:`lti_tool.services.ingestion.record_events`): the same unique keys decide, so a completion
that also arrives by push, before or after, is credited once.

Each source is reconciled under a lease (one row per source, taken by an atomic UPDATE), so several
scheduler processes never reconcile the same source at once. An LMS that is down or refuses is
reported in the run's ``errors`` and asked again on the next run; nothing it does stops the others.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.credits.registry import Rulebook
from lti_tool.db import read_session, write_session
from lti_tool.pull.canvas import Throttle
from lti_tool.pull.clients import client_for
from lti_tool.pull.found import Found, PullClient
from lti_tool.pull.http import HttpLimits, LmsHttp, PullError
from lti_tool.services.connections import find_connection
from lti_tool.services.ingestion import Submission, record_events
from lti_tool.services.known_completions import is_known, known_learners, known_pairs
from lti_tool.services.reconcile_requests import clear_request, requested_source_names
from lti_tool.settings import ReconcileSettings
from lti_tool.states import EventStatus

log = logging.getLogger(__name__)

FEED = "*"
"""The mark's course id for a source read as one feed (an LRS)."""


@dataclass
class SourceReport:
    source: str
    courses: int = 0
    users_checked: int = 0
    completions_found: int = 0
    credited: int = 0
    already_known: int = 0
    already_credited: int = 0
    """Found, new to the tool, and answered ``already credited this cycle`` (a retake in a period
    that has its award already)."""
    unmapped: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    """Every completion found is counted once: ``credited``, ``already_known``, ``already_credited``,
    ``unmapped``, ``refused``, or in an error (stored, and credited by the reprocess job)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def holder_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def reconcile(
    sessions: sessionmaker[Session], rulebook: Rulebook, settings: ReconcileSettings, *,
    source: str | None = None, course: str | None = None, since: datetime | None = None,
    holder: str | None = None, requested_only: bool = False,
) -> list[SourceReport]:
    """Reconcile every connected source (or the one named, or those someone asked for with
    "Reconcile now"); one report per source."""
    holder = holder or holder_name()
    if requested_only:
        asked_before = models.utcnow()
        with read_session(sessions) as session:
            requested = requested_source_names(session)
        reports = []
        for name, source_id in requested:
            reports += reconcile(sessions, rulebook, settings, source=name, course=course, since=since, holder=holder)
            with write_session(sessions) as session:  # served, or not connected: asked once, answered once
                clear_request(session, source_id, asked_before)
        return reports
    with read_session(sessions) as session:
        query = select(models.Source).join(models.SourceConnection,
                                           models.SourceConnection.source_id == models.Source.id)
        if source is not None:
            query = select(models.Source).where(models.Source.name == source)
        chosen = list(session.scalars(query.order_by(models.Source.id)))
    if source is not None and not chosen:
        return [SourceReport(source, errors=[f"no source named {source!r}"])]
    reports = []
    for one in chosen:
        report = SourceReport(one.name)
        try:
            _reconcile_source(sessions, rulebook, settings, one, report, course=course, since=since, holder=holder)
        except Exception as exc:  # noqa: BLE001 - one source's failure is reported; the others go on
            log.exception("reconciling source %s failed", one.name)
            report.errors.append(f"{type(exc).__name__}: {exc}")
        reports.append(report)
    return reports


def _reconcile_source(sessions: sessionmaker[Session], rulebook: Rulebook, settings: ReconcileSettings,
                      source: models.Source, report: SourceReport, *, course: str | None,
                      since: datetime | None, holder: str) -> None:
    with read_session(sessions) as session:
        connection = find_connection(session, source.id)
        courses = sorted(session.scalars(select(models.CourseMapping.course_id).where(
            models.CourseMapping.source_id == source.identity_id)))
    if connection is None:
        report.errors.append("not connected (lti-tool sources connect)")
        return
    if course is not None:
        if course not in courses:
            report.errors.append(f"course {course}: not mapped for this source")
            return
        courses = [course]
    if not _take_lease(sessions, source.id, holder, settings.lease_seconds):
        report.errors.append("another process is reconciling this source now")
        return
    run_id, started = _start_run(sessions, source.id)
    try:
        http = LmsHttp(HttpLimits(settings.deadline_seconds, settings.max_response_bytes))
        throttle = Throttle(settings.throttle_attempts, settings.throttle_first_wait_seconds,
                            settings.throttle_max_wait_seconds)
        client = client_for(source.kind, http, connection.api_url, dict(connection.auth), throttle)
        look_back = timedelta(hours=settings.look_back_hours)
        for course_id in (courses if client.per_course else [FEED]):
            if not _take_lease(sessions, source.id, holder, settings.lease_seconds):  # renewed per course
                report.errors.append("the lease on this source was lost to another process; stopped")
                break
            try:
                _reconcile_course(sessions, rulebook, client, source, course_id, report, since, look_back,
                                  only_course=course)
            except PullError as exc:
                log.warning("reconcile %s: %s", source.name, exc)
                report.errors.append(str(exc))
                if exc.scope == "source":
                    break
    finally:
        _finish_run(sessions, run_id, report, started)
        _release_lease(sessions, source.id, holder)
    log.info("reconciled %s: %s", source.name, json.dumps(report.as_dict()))


def _reconcile_course(sessions: sessionmaker[Session], rulebook: Rulebook, client: PullClient,
                      source: models.Source, course_id: str, report: SourceReport, since: datetime | None,
                      look_back: timedelta, only_course: str | None = None) -> None:
    with read_session(sessions) as session:
        mark = session.scalar(select(models.ReconcileMark).where(
            models.ReconcileMark.source_id == source.id, models.ReconcileMark.course_id == course_id))
        known = ({} if course_id == FEED else known_learners(session, source.identity_id, course_id))
    if course_id != FEED:
        report.courses += 1
    ask_since = since
    if ask_since is None and not client.per_course and mark is not None and mark.completed_through:
        ask_since = mark.completed_through - look_back
    latest = mark.completed_through if mark else None
    courses_seen: set[str] = set()
    for page in client.pull(None if course_id == FEED else course_id, known=known, since=ask_since):
        report.users_checked += page.users_checked
        report.completions_found += page.known
        report.already_known += page.known
        found = [f for f in page.found if (since is None or f.completion.completed_at >= since)
                 and (only_course is None or f.completion.course_id == only_course)]
        courses_seen.update(f.completion.course_id for f in found)
        report.completions_found += len(found)
        _record(sessions, rulebook, source, found, report)
        for when in [page.watermark, *(f.completion.completed_at for f in found if client.per_course)]:
            if when is not None and (latest is None or when > latest):
                latest = when
    if course_id == FEED:
        report.courses += len(courses_seen)
    if course_id != FEED or only_course is None:  # a feed read for one course skipped the others' statements
        _save_mark(sessions, source.id, course_id, latest)


def _record(sessions: sessionmaker[Session], rulebook: Rulebook, source: models.Source, found: list[Found],
            report: SourceReport) -> None:
    """Completions the tool does not know go through ingestion, as pushed events do."""
    if not found:
        return
    with read_session(sessions) as session:
        known = known_pairs(session, source.identity_id, found)
    fresh = [f for f in found if not is_known(f, known)]
    report.already_known += len(found) - len(fresh)
    if not fresh:
        return
    outcomes = record_events(sessions, rulebook, [
        Submission(source.id, source.identity_id, json.dumps(f.raw, default=str), "application/json", [f.completion])
        for f in fresh])
    queued = 0
    for outcome in outcomes:
        if isinstance(outcome, Exception) or outcome.status == "queued":
            queued += 1
        elif outcome.status == EventStatus.CREDITED:
            report.credited += 1
        elif outcome.status == EventStatus.DUPLICATE:
            report.already_known += 1
        elif outcome.status == EventStatus.ALREADY_CREDITED:
            report.already_credited += 1
        elif outcome.status == EventStatus.UNMAPPED:
            report.unmapped += 1
        elif outcome.status == EventStatus.REFUSED:
            report.refused += 1
    if queued:
        report.errors.append(f"{queued} completion(s) could not be credited now; stored for the reprocess job")


def _save_mark(sessions: sessionmaker[Session], source_id: int, course_id: str, latest: datetime | None) -> None:
    with write_session(sessions) as session:
        mark = session.scalar(select(models.ReconcileMark).where(
            models.ReconcileMark.source_id == source_id, models.ReconcileMark.course_id == course_id))
        if mark is None:
            session.add(models.ReconcileMark(source_id=source_id, course_id=course_id, completed_through=latest))
        else:
            mark.completed_through, mark.checked_at = latest, models.utcnow()


def _start_run(sessions: sessionmaker[Session], source_id: int) -> tuple[int, datetime]:
    with write_session(sessions) as session:
        run = models.ReconcileRun(source_id=source_id, errors=[], started_at=models.utcnow())
        session.add(run)
        session.flush()
        return run.id, run.started_at


def _finish_run(sessions: sessionmaker[Session], run_id: int, report: SourceReport, started: datetime) -> None:
    with write_session(sessions) as session:
        run = session.get(models.ReconcileRun, run_id)
        assert run is not None
        clear_request(session, run.source_id, started)
        run.finished_at = models.utcnow()
        for name in ("courses", "users_checked", "completions_found", "credited", "already_known"):
            setattr(run, name, getattr(report, name))
        run.errors = [e[:500] for e in report.errors[:50]]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _take_lease(sessions: sessionmaker[Session], source_id: int, holder: str, seconds: float) -> bool:
    """Take the source's lease if it is free or expired: an atomic UPDATE decides, so of two
    schedulers racing for it exactly one wins."""
    table = cast(Table, models.ReconcileLease.__table__)
    with write_session(sessions) as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(table).values(source_id=source_id, holder=None, expires_at=_EPOCH)
                        .on_conflict_do_nothing(index_elements=["source_id"]))
    now = models.utcnow()
    with write_session(sessions) as session:
        taken = session.execute(
            update(table).where(table.c.source_id == source_id,
                                or_(table.c.expires_at < now, table.c.holder == holder))
            .values(holder=holder, expires_at=now + timedelta(seconds=seconds)))
        return bool(getattr(taken, "rowcount", 0) == 1)


def _release_lease(sessions: sessionmaker[Session], source_id: int, holder: str) -> None:
    table = cast(Table, models.ReconcileLease.__table__)
    with write_session(sessions) as session:
        session.execute(update(table).where(table.c.source_id == source_id, table.c.holder == holder)
                        .values(holder=None, expires_at=_EPOCH))


def last_runs(session: Session, source_ids: list[int]) -> dict[int, models.ReconcileRun]:
    """Each source's latest reconciliation (the administrators' view)."""
    runs: dict[int, models.ReconcileRun] = {}
    for source_id in source_ids:
        run = session.scalar(select(models.ReconcileRun).where(models.ReconcileRun.source_id == source_id)
                             .order_by(models.ReconcileRun.id.desc()).limit(1))
        if run is not None:
            runs[source_id] = run
    return runs
