""""Reconcile now": a request the web page records and the scheduler's next tick carries out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool import models


def request_reconcile(session: Session, source_ids: list[int], requested_by: str) -> None:
    """Ask for these sources to be reconciled; asking again before the run changes nothing."""
    if not source_ids:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = models.utcnow()
    session.execute(dialect.insert(models.ReconcileRequest).values([
        {"source_id": source_id, "requested_at": now, "requested_by": requested_by[:255]}
        for source_id in sorted(source_ids)]).on_conflict_do_nothing(index_elements=["source_id"]))


def requested_source_names(session: Session) -> list[tuple[str, int]]:
    """The sources someone asked to reconcile: (name, id)."""
    rows = session.execute(
        select(models.Source.name, models.Source.id)
        .join(models.ReconcileRequest, models.ReconcileRequest.source_id == models.Source.id)
        .order_by(models.Source.id))
    return [(str(name), int(source_id)) for name, source_id in rows]


def clear_request(session: Session, source_id: int, asked_before: datetime) -> None:
    """The request is served by a run that started after it was made."""
    session.execute(delete(models.ReconcileRequest).where(models.ReconcileRequest.source_id == source_id,
                                                          models.ReconcileRequest.requested_at <= asked_before))


def pending_requests(session: Session, source_ids: list[int]) -> dict[int, models.ReconcileRequest]:
    rows = session.scalars(select(models.ReconcileRequest).where(models.ReconcileRequest.source_id.in_(source_ids)))
    return {row.source_id: row for row in rows}
