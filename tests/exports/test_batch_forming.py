"""Forming batches: every ready claim in exactly one batch of its credential, oldest completion first
(ties by claim), at most ``max_claims_per_batch`` a batch; claims of a learner who lacks what the
body requires wait; the batches nearest their reporting deadline are due first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.export_batching import batch_key, due_batches, form_batches
from tests.exports.ledger_rows import COMPLETED, credit
from tests.exports.test_batches import configure


def batches(runtime: Runtime) -> list[tuple[str, list[str], object, str]]:
    """Each batch (by id): its credential, its learners in claim order, its deadline and key."""
    with read_session(runtime.sessions) as session:
        found = session.scalars(select(models.ExportBatch).order_by(models.ExportBatch.id)).all()
        out = []
        for batch in found:
            learners = session.execute(
                select(models.Learner.lms_user_id, models.OutboxClaim.idempotency_key)
                .join(models.Award, models.Award.learner_id == models.Learner.id)
                .join(models.LedgerEntry, models.LedgerEntry.award_id == models.Award.id)
                .join(models.OutboxClaim, models.OutboxClaim.ledger_entry_id == models.LedgerEntry.id)
                .where(models.OutboxClaim.batch_id == batch.id)
                .order_by(models.Award.completed_at, models.OutboxClaim.id)).all()
            assert batch.key == batch_key([key for _, key in learners])
            out.append((batch.credential, [user for user, _ in learners], batch.deadline_at, batch.status))
        return out


def unbatched(runtime: Runtime) -> list[str]:
    with read_session(runtime.sessions) as session:
        return sorted(session.scalars(
            select(models.Learner.lms_user_id)
            .join(models.Award, models.Award.learner_id == models.Learner.id)
            .join(models.LedgerEntry, models.LedgerEntry.award_id == models.Award.id)
            .join(models.OutboxClaim, models.OutboxClaim.ledger_entry_id == models.LedgerEntry.id)
            .where(models.OutboxClaim.batch_id.is_(None))))


def test_ready_claims_are_batched_oldest_first_and_the_nearest_deadline_is_due_first(
    runtime: Runtime, tmp_path: Path
) -> None:
    configure(runtime, tmp_path, """
[delivery]
max_claims_per_batch = 2
[defaults]
exporter = "claims-csv"
[credentials.acmss-cmss]
requires = ["number"]
deadline_days = 10
[credentials.aama-cma]
requires = []
deadline_days = 365
""")
    day = timedelta(days=1)
    # aama-cma first, so its claims have the lower ids: the order below is the completion's.
    for user, days in [("p", 2), ("q", 0), ("r", 1)]:
        credit(runtime.sessions, user, "1", credential="aama-cma", completed_at=COMPLETED + days * day)
    for user, days in [("c", 3), ("a", 1), ("x", 0), ("d", 4), ("b", 2), ("e", 5), ("f", 5)]:
        credit(runtime.sessions, user, "2", credential="acmss-cmss", completed_at=COMPLETED + days * day,
               number=None if user == "x" else f"CMSS-{user}")
    now = models.utcnow()
    with write_session(runtime.sessions) as session:
        formed = form_batches(session, now, runtime.exports)
    assert len(formed) == 5
    assert batches(runtime) == [
        ("aama-cma", ["q", "r"], COMPLETED + 365 * day, "pending"),
        ("aama-cma", ["p"], COMPLETED + 2 * day + 365 * day, "pending"),
        ("acmss-cmss", ["a", "b"], COMPLETED + 11 * day, "pending"),
        ("acmss-cmss", ["c", "d"], COMPLETED + 13 * day, "pending"),
        ("acmss-cmss", ["e", "f"], COMPLETED + 15 * day, "pending"),  # a tie: the older claim first
    ]
    assert unbatched(runtime) == ["x"]  # no licence number yet: the claim waits
    with read_session(runtime.sessions) as session:
        due = due_batches(session, now)
    assert due == [formed[2], formed[3], formed[4], formed[0], formed[1]]
    with write_session(runtime.sessions) as session:
        assert form_batches(session, now, runtime.exports) == []  # nothing new is ready
        person = session.scalar(select(models.Learner).where(models.Learner.lms_user_id == "x"))
        assert person is not None
        session.add(models.LearnerCredential(learner_id=person.id, credential="acmss-cmss", number="CMSS-x"))
    with write_session(runtime.sessions) as session:
        [late] = form_batches(session, now, runtime.exports)
    assert batches(runtime)[-1] == ("acmss-cmss", ["x"], COMPLETED + 10 * day, "pending")
    assert unbatched(runtime) == []
    with read_session(runtime.sessions) as session:
        assert due_batches(session, now)[0] == late  # the oldest claim's deadline is the nearest
