"""The export tick: gather ready claims into batches, then deliver each due batch once.

The parts: :mod:`~lti_tool.services.export_batching` (which claims go together, which batches are
due: nearest reporting deadline first), :mod:`~lti_tool.services.export_delivery` (lease, render,
send, record, retry, dead letter), :mod:`~lti_tool.services.export_status` (where claims stand).
A tick is idempotent: it reads what is due from the database, so a missed, doubled or crashed tick
loses nothing and the next one does the work.

Transactions: :func:`run_export_tick` is the export's one runner of several transactions (services
elsewhere take the caller's ``Session``): batches are formed in one write transaction and the due
ones read in another; then each batch is leased in a write transaction, read in a read transaction,
rendered and delivered outside any, and its outcome recorded in the write transaction that leases
the next batch (one commit a batch, :mod:`~lti_tool.services.export_delivery`), so a slow receiver
holds no database lock, a batch is leased only when its delivery begins, and a crash mid-delivery
leaves a lease that expires (the delivered file is replaced, under the same name, by the retry).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.config import Exports
from lti_tool.services.export_batching import due_batches, form_batches
from lti_tool.services.export_claims import batch_rows, claims_of
from lti_tool.services.export_delivery import Attempted, deliver_claims, record_attempt
from lti_tool.services.export_lease import LeaseKeeper, take_batch
from lti_tool.settings import ExportSettings


@dataclass
class TickReport:
    delivered: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "failed": self.failed}


def run_export_tick(
    sessions: sessionmaker[Session], exports: Exports, settings: ExportSettings,
    now: datetime | None = None, *, credentials: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> TickReport:
    """One tick, for ``credentials`` (default: all but ``exclude``, those with their own cron).

    ``now`` is the tick's start; each lease is taken at the tick's clock when it is taken (``now``
    plus the time the tick has run), never at its start, and is renewed while its delivery runs.
    """
    now = now or models.utcnow()
    started = time.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    with write_session(sessions) as session:
        form_batches(session, now, exports, credentials=credentials, exclude=exclude)
    with read_session(sessions) as session:
        due = due_batches(session, now, credentials=credentials, exclude=exclude)
    report = TickReport()
    attempted: Attempted | None = None
    with LeaseKeeper(sessions, settings.lease_seconds, clock) as keeper:
        for batch_id in [*due, None]:
            if attempted is None and batch_id is None:
                break
            # One commit a batch: the last batch's outcome, the next one's lease and its claims together.
            with write_session(sessions) as session:
                recorded = record_attempt(session, attempted, exports, settings, now) if attempted else None
                taken = take_batch(session, batch_id, clock(), settings.lease_seconds) if batch_id else None
                rows = batch_rows(session, batch_id) if taken is not None and batch_id else []
            if recorded is not None:
                (report.delivered if recorded.pop("delivered") else report.failed).append(recorded)
            attempted = None
            if batch_id is None or taken is None:
                keeper.release()
                continue
            attempt, batch = taken
            keeper.hold(batch_id, attempt)
            # Claims are made of the rows after the commit: a row that cannot be made a claim stops
            # the tick as it always did, with the last batch's outcome recorded (and this lease left to expire).
            attempted = deliver_claims(sessions, batch, attempt, claims_of(rows), exports, now)
    return report
