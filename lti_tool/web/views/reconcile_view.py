"""The administrator page's reconciliation panel: the platform's sources, each one's last run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.services.connections import find_connection
from lti_tool.services.reconcile_requests import pending_requests
from lti_tool.services.reconciliation import last_runs


@dataclass(frozen=True)
class SourceLine:
    id: int
    name: str
    kind: str
    connected: bool
    last_run: models.ReconcileRun | None
    requested_at: datetime | None


def platform_sources(session: Session, identity_id: int) -> list[models.Source]:
    """The sources whose learners and courses are the platform's (its own, and those sharing them)."""
    return list(session.scalars(select(models.Source).where(
        (models.Source.id == identity_id) | (models.Source.identity_source_id == identity_id))
        .order_by(models.Source.id)))


def panel(session: Session, identity_id: int) -> list[SourceLine]:
    sources = platform_sources(session, identity_id)
    ids = [s.id for s in sources]
    runs, requests = last_runs(session, ids), pending_requests(session, ids)
    return [SourceLine(s.id, s.name, s.kind, find_connection(session, s.id) is not None, runs.get(s.id),
                       requests[s.id].requested_at if s.id in requests else None) for s in sources]
