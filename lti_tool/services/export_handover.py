"""One step of the export tick's delivery thread in the database: the batch sent before recorded,
and the next one leased, in the caller's write transaction (one commit a batch).

On PostgreSQL an accepted batch's record and the next batch's lease (with its attempt row, and
an earlier attempt cut short by its process's end marked ``interrupted``) are one statement of
data-modifying common table expressions: one round trip instead of four. The statements are those
:func:`~lti_tool.services.export_delivery.record_delivery` and
:func:`~lti_tool.services.export_lease.take_batch` run one by one (as they still do on SQLite, in
process, and for a failed attempt, whose record decides on retries).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.db import table_of
from lti_tool.exports.config import Exports
from lti_tool.models.base import UtcDateTime
from lti_tool.services.export_delivery import (
    ATTEMPT_DELIVERED,
    DELIVERED,
    Attempted,
    delivered_entry,
    delivery_parameters,
    record_attempt,
)
from lti_tool.services.export_lease import INTERRUPTED_ERROR, TAKE, BatchFacts, take_batch, take_parameters
from lti_tool.settings import ExportSettings

_attempts = table_of(models.ExportAttempt)
_batches = table_of(models.ExportBatch)


def _handover() -> Any:
    done = DELIVERED.returning(_batches.c.id).cte("done")
    done_attempt = ATTEMPT_DELIVERED.returning(_attempts.c.id).cte("done_attempt")
    taken = TAKE.cte("taken")
    interrupted = (
        update(_attempts)
        .where(_attempts.c.batch_id.in_(select(taken.c.id).where(taken.c.attempts > 1)),
               _attempts.c.outcome.is_(None))
        .values(outcome=models.AttemptOutcome.INTERRUPTED, finished_at=bindparam("take_now"),
                error=INTERRUPTED_ERROR)
        .returning(_attempts.c.id).cte("interrupted")
    )
    started = (
        insert(_attempts)
        .from_select(["batch_id", "attempt", "destination", "started_at"],
                     select(taken.c.id, taken.c.attempts, taken.c.destination,
                            bindparam("take_now", type_=UtcDateTime())))
        .returning(_attempts.c.id).cte("started")
    )
    # Every expression reads the statement's one snapshot: ``interrupted`` does not see the attempt
    # ``started`` adds, and ``done`` and ``taken`` change two different batches.
    return select(*taken.c).add_cte(done, done_attempt, interrupted, started)


_HANDOVER = _handover()
"""Built once: ``TAKE``'s columns, after recording the batch sent before as delivered."""


def record_and_take(
    session: Session, sent: Attempted | None, batch_id: int, now: datetime, seconds: float,
    exports: Exports, settings: ExportSettings, tick_now: datetime,
) -> tuple[dict[str, Any] | None, tuple[int, BatchFacts] | None]:
    """Record ``sent`` (if any) and lease ``batch_id`` at ``now`` for ``seconds``, in the caller's
    transaction: the report entry of ``sent`` and, as :func:`take_batch` returns it, the lease."""
    connection = session.connection()
    if sent is None or sent.error is not None or connection.dialect.name != "postgresql":
        recorded = record_attempt(session, sent, exports, settings, tick_now) if sent is not None else None
        return recorded, take_batch(session, batch_id, now, seconds)
    taken = connection.execute(_HANDOVER, {**delivery_parameters(sent.batch_id, sent.attempt, sent.receipt or {}),
                                           **take_parameters(batch_id, now, seconds)}).first()
    recorded = delivered_entry(sent)
    if taken is None:
        return recorded, None
    attempts, *facts = taken
    return recorded, (int(attempts), BatchFacts(*facts))
