"""Gathering claims into batches, and choosing which batches are due.

Claims not yet in a batch whose learner has what the body requires (number, consent:
:mod:`lti_tool.services.claim_readiness`) are planned into batches of one credential, oldest
completion first, at most ``[delivery] max_claims_per_batch`` claims each, bound to the credential's
exporter and destination, with the earliest reporting deadline of their claims. A batch's key is
derived from its claims' keys, so it names the same content on every retry.

A plan is written in the caller's transaction (all of it, or a round of it:
:mod:`lti_tool.services.export_rounds`), which checks the learners' readiness again. A claim is put
into a batch only by the statement that finds it in none, so two ticks planning the same claims
cannot both batch them: the one that writes second finds them taken and rolls back
(:class:`ClaimsTaken`), leaving no batch whose claims differ from its key."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import case, or_, select, type_coerce
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from lti_tool import models
from lti_tool.db import table_of
from lti_tool.exports.config import Exports
from lti_tool.row_writes import insert_many
from lti_tool.services.claim_readiness import ready_learners
from lti_tool.services.export_lease import BATCH_FACTS_COLUMNS, BatchFacts
from lti_tool.services.verification import ensure_codes

log = logging.getLogger(__name__)

OPEN = models.OPEN_BATCH_STATUSES
"""Batch states a tick may (re)deliver once their lease is free."""

_batches = table_of(models.ExportBatch)
_completed_at_type = table_of(models.Award).c.completed_at.type
_ASSIGN_UNNEST = ("UPDATE outbox_claims SET batch_id = assigned.batch_id "
                  "FROM unnest(%s::bigint[], %s::bigint[]) AS assigned (id, batch_id) "
                  "WHERE outbox_claims.id = assigned.id AND outbox_claims.batch_id IS NULL")
"""Puts every formed batch's claims into it, on PostgreSQL: one statement, the ids bound as two arrays."""
_ASSIGN_EACH = "UPDATE outbox_claims SET batch_id = ? WHERE id = ? AND batch_id IS NULL"
"""The same on SQLite, one prepared statement run for each claim (``executemany``)."""
_BATCH_KEY = "uq_export_batches_key"
_DEADLOCK = "40P01"
"""PostgreSQL's deadlock: two ticks writing the same claims, one of them is refused."""


def in_scope(column: Any, credentials: Collection[str] | None, exclude: Collection[str]) -> list[Any]:
    where = []
    if credentials is not None:
        where.append(column.in_(list(credentials)))
    if exclude:
        where.append(column.not_in(list(exclude)))
    return where


def batch_key(claim_keys: list[str]) -> str:
    return hashlib.sha256("|".join(claim_keys).encode()).hexdigest()


@dataclass(frozen=True)
class PlannedBatch:
    """A batch as planned from the ready claims read: its row, its claims, and the awards whose
    certificate codes its exporter prints."""

    row: dict[str, Any]
    claim_ids: tuple[int, ...]
    coded_awards: tuple[int, ...]
    learner_ids: frozenset[int] = frozenset()
    requires: tuple[str, ...] = ()
    """What the body requires of the learners (checked again when the batch is written)."""

    @property
    def size(self) -> int:
        return len(self.claim_ids)


class ClaimsTaken(Exception):
    """Some claims planned into a batch were put into another batch since they were read (by
    another tick): the transaction writing the plan must roll back."""


def plan_batches(
    session: Session, now: datetime, exports: Exports, *,
    credentials: Collection[str] | None = None, exclude: Collection[str] = (),
) -> list[PlannedBatch]:
    """The batches the ready claims not yet in a batch make (only reads): per credential, oldest
    completion first, at most ``max_claims_per_batch`` each; credential by credential."""
    # The completion time as the driver gives it: only each batch's first (oldest) is made a datetime.
    raw_completed_at = type_coerce(models.Award.completed_at, NullType()).label("completed_at")
    query = (select(models.OutboxClaim.id, models.OutboxClaim.credential, models.OutboxClaim.idempotency_key,
                    models.Award.id.label("award_id"), models.Award.learner_id, raw_completed_at)
             .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id)
             .join(models.Award, models.Award.id == models.LedgerEntry.award_id)
             .where(models.OutboxClaim.batch_id.is_(None),
                    *in_scope(models.OutboxClaim.credential, credentials, exclude)))
    dialect = session.get_bind().dialect
    as_datetime = _completed_at_type.dialect_impl(dialect).result_processor(dialect, None)

    def completed_at(raw: Any) -> datetime:
        return cast(datetime, as_datetime(raw) if as_datetime else raw)

    if session.autoflush:
        session.flush()
    by_credential: dict[str, list[Any]] = {}
    # Columns through the connection: no ORM row handling for every pending claim.
    for claim in session.connection().execute(query.order_by(models.Award.completed_at, models.OutboxClaim.id)).all():
        by_credential.setdefault(claim.credential, []).append(claim)
    size = exports.config.delivery.max_claims_per_batch
    planned: list[PlannedBatch] = []
    for credential, group in sorted(by_credential.items()):
        binding = exports.binding(credential)
        learners = ready_learners(session, {c.learner_id for c in group}, credential, binding.requires or [])
        ready = [c for c in group if c.learner_id in learners]
        deadline = exports.deadline(credential)
        exporter = exports.exporters.get(binding.exporter)
        coded = exporter is None or exporter.certificate_codes  # an unknown exporter: as if it printed them
        for start in range(0, len(ready), size):
            chunk = ready[start:start + size]
            planned.append(PlannedBatch(
                row=dict(
                    credential=credential, destination=binding.destination, exporter=binding.exporter,
                    key=batch_key([c.idempotency_key for c in chunk]), status=models.BatchStatus.PENDING,
                    attempts=0, attempts_before_retry=0, next_attempt_at=now, created_at=now,
                    # The chunk's oldest completion is its first (the query's order).
                    deadline_at=completed_at(chunk[0].completed_at) + deadline if deadline else None,
                ),
                claim_ids=tuple(c.id for c in chunk),
                coded_awards=tuple(c.award_id for c in chunk) if coded else (),
                learner_ids=frozenset(c.learner_id for c in chunk),
                requires=tuple(binding.requires or ()),
            ))
    return planned


def write_batches(session: Session, planned: Sequence[PlannedBatch]) -> list[int]:
    """Insert the planned batches and put each claim into its batch, in the caller's (write)
    transaction; returns the batches' ids. A batch one of whose learners is no longer ready
    (checked again here, in the write transaction) is left out. Raises :class:`ClaimsTaken` (the
    caller rolls back) when a claim is in a batch already: a claim is only ever put into a batch by
    the statement that finds it in none (on PostgreSQL, two ticks writing the same claims wait for
    each other, and a deadlock between them refuses one)."""
    if not planned:
        return []
    try:
        return _write_batches(session, planned)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != _DEADLOCK:
            raise
        raise ClaimsTaken(f"a deadlock with another transaction (another tick writing the same claims?): "
                          f"{exc.orig}") from exc


def _write_batches(session: Session, planned: Sequence[PlannedBatch]) -> list[int]:
    planned = _still_ready(session, planned)
    if not planned:
        return []
    try:  # one statement for all, their ids in the plan's order
        batch_ids = insert_many(session, _batches, [p.row for p in planned])
    except IntegrityError as exc:
        # A batch's key names its claims: a key that exists means another tick batched the same
        # claims (on PostgreSQL, the insert waits for that tick's commit).
        if not _is_batch_key(exc):
            raise
        raise ClaimsTaken("another tick formed the same batches") from exc
    pairs = [(batch_id, claim) for batch_id, p in zip(batch_ids, planned, strict=True) for claim in p.claim_ids]
    assigned = assign(session, pairs)
    if assigned != len(pairs):
        raise ClaimsTaken(f"{len(pairs)} claims were planned into {len(planned)} batches, "
                          f"but {len(pairs) - assigned} of them are in another batch now")
    coded = [award for p in planned for award in p.coded_awards]
    if coded:
        ensure_codes(session, coded)  # before the first render, for exporters that print them
    return batch_ids


def _still_ready(session: Session, planned: Sequence[PlannedBatch]) -> Sequence[PlannedBatch]:
    """The planned batches whose learners all still have what the body requires (read in the
    writing transaction); a batch holding one who no longer does is left out, its claims left for
    the next plan (a batch's key names its claims, so it cannot just lose one)."""
    learners: dict[tuple[str, tuple[str, ...]], set[int]] = {}
    for p in planned:
        if p.requires:
            learners.setdefault((p.row["credential"], p.requires), set()).update(p.learner_ids)
    not_ready: dict[str, set[int]] = {}
    for (credential, requires), planned_learners in learners.items():
        if missing := planned_learners - ready_learners(session, planned_learners, credential, requires):
            not_ready.setdefault(credential, set()).update(missing)
    if not not_ready:
        return planned
    kept = [p for p in planned if not p.learner_ids & not_ready.get(p.row["credential"], set())]
    log.info("export: %d learner(s) no longer have what their body requires since the batches were "
             "planned; %d of %d planned batches left for the next plan",
             sum(len(m) for m in not_ready.values()), len(planned) - len(kept), len(planned))
    return kept


def _is_batch_key(error: IntegrityError) -> bool:
    """Whether the unique key of batches refused the insert (PostgreSQL names the constraint,
    SQLite the column)."""
    diagnostic = getattr(error.orig, "diag", None)
    if diagnostic is not None:
        return bool(getattr(diagnostic, "constraint_name", None) == _BATCH_KEY)
    return "export_batches.key" in str(error.orig)


def form_batches(
    session: Session, now: datetime, exports: Exports, *,
    credentials: Collection[str] | None = None, exclude: Collection[str] = (),
) -> list[int]:
    """Put ready claims into new batches, in the caller's (write) transaction; returns their ids
    (:class:`ClaimsTaken` only if another transaction batched the same claims meanwhile)."""
    return write_batches(session, plan_batches(session, now, exports, credentials=credentials, exclude=exclude))


def assign(session: Session, pairs: list[tuple[int, int]]) -> int:
    """Put each claim not in a batch yet into its batch (``(batch id, claim id)`` pairs), in the
    caller's transaction; returns how many were put."""
    if not pairs:
        return 0
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        result = connection.exec_driver_sql(
            _ASSIGN_UNNEST, ([claim for _, claim in pairs], [batch for batch, _ in pairs]))
    else:
        result = connection.exec_driver_sql(_ASSIGN_EACH, pairs)
    return result.rowcount


def batch_facts(session: Session, batch_ids: Collection[int]) -> list[BatchFacts]:
    """The batches' facts as read from their rows (for batches just formed)."""
    return [BatchFacts(*row) for row in session.execute(
        select(*BATCH_FACTS_COLUMNS).where(_batches.c.id.in_(list(batch_ids))))]


def due_batches(
    session: Session, now: datetime, *, credentials: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[int]:
    """Batches to deliver now, nearest reporting deadline first (those without one last)."""
    return [batch.id for batch in due_batch_facts(session, now, credentials=credentials, exclude=exclude)]


def due_batch_facts(
    session: Session, now: datetime, *, credentials: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[BatchFacts]:
    """:func:`due_batches` with what delivering each needs to know of it, as it was read (its lease
    returns it again as it is then)."""
    batches = models.ExportBatch
    return [BatchFacts(*row) for row in session.execute(
        select(*BATCH_FACTS_COLUMNS).where(
            batches.status.in_(OPEN),
            batches.next_attempt_at <= now,
            or_(batches.lease_until.is_(None), batches.lease_until < now),
            *in_scope(batches.credential, credentials, exclude),
        ).order_by(case((batches.deadline_at.is_(None), 1), else_=0), batches.deadline_at, batches.id)
    )]
