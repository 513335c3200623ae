"""A tick forms its batches in rounds, delivered as they land: every claim delivered once, nearest
deadline first; a round another tick got to first writes nothing; a round that fails leaves the
rounds before it delivered and the rest for the next tick."""

from __future__ import annotations

import csv
import logging
import queue
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services import export_rounds, exporting
from lti_tool.services.export_batching import ClaimsTaken, PlannedBatch, form_batches, plan_batches, write_batches
from lti_tool.services.export_rounds import in_deadline_order, in_rounds, write_round
from lti_tool.services.exporting import run_export_tick
from tests.exports.ledger_rows import COMPLETED, credit
from tests.exports.test_batch_forming import batches, unbatched
from tests.exports.test_batches import configure
from tests.security.test_concurrent_export_ticks import run_two_ticks

DAY = timedelta(days=1)
SETTINGS = """
[delivery]
max_claims_per_batch = 2
[defaults]
exporter = "claims-csv"
[credentials.acmss-cmss]
requires = []
deadline_days = 10
[credentials.aama-cma]
requires = []
deadline_days = 365
[credentials.iacet-ceu]
requires = []
"""


@pytest.fixture(params=["overlapped", "before delivery"])
def rounds_mode(request: pytest.FixtureRequest, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> str:
    """Later rounds written during delivery (PostgreSQL's way) or before it (SQLite's), on either."""
    dialect = runtime.engine.dialect.name
    monkeypatch.setattr(export_rounds, "OVERLAPPED", frozenset({dialect} if request.param == "overlapped" else ()))
    return str(request.param)


def planned(size: int, deadline: datetime | None) -> PlannedBatch:
    return PlannedBatch(row={"deadline_at": deadline}, claim_ids=tuple(range(size)), coded_awards=())


def test_rounds_hold_at_most_their_claims_nearest_deadline_first() -> None:
    late, soon, none, big = planned(2, COMPLETED + 9 * DAY), planned(2, COMPLETED), planned(1, None), planned(7, COMPLETED)
    rounds = in_rounds([late, none, soon, big], claims=4)
    # Nearest deadline first (a tie keeps the plan's order), those without one last; a batch
    # larger than a round is a round of its own.
    assert rounds == [[soon], [big], [late, none]]
    assert in_rounds([], claims=4) == []


def credit_many(runtime: Runtime) -> dict[str, str]:
    """Eleven claims of three credentials; their deadlines interleave across the credentials."""
    credentials = {}
    for user, credential, days in [("a1", "aama-cma", 0), ("a2", "aama-cma", 1), ("a3", "aama-cma", 2),
                                   ("c1", "acmss-cmss", 400), ("c2", "acmss-cmss", 401), ("c3", "acmss-cmss", 0),
                                   ("c4", "acmss-cmss", 1), ("c5", "acmss-cmss", 800),
                                   ("i1", "iacet-ceu", 0), ("i2", "iacet-ceu", 3), ("i3", "iacet-ceu", 5)]:
        credit(runtime.sessions, user, "1", credential=credential, completed_at=COMPLETED + days * DAY)
        credentials[user] = credential
    return credentials


def delivered_users(runtime: Runtime) -> Counter[str]:
    """Each learner by the number of delivered claims naming them, read from the files."""
    users: Counter[str] = Counter()
    for path in runtime.settings.exports_dir.rglob("*.csv"):
        with open(path, newline="") as handle:
            users.update(row["learner_id"] for row in csv.DictReader(handle))
    return users


def test_a_tick_forms_in_rounds_and_delivers_every_claim_once_nearest_deadline_first(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rounds_mode: str
) -> None:
    configure(runtime, tmp_path, SETTINGS)
    credentials = credit_many(runtime)
    monkeypatch.setattr(export_rounds, "ROUND_CLAIMS", 2)  # a round a batch or two: seven rounds
    written = []
    real_write_round = export_rounds.write_round

    def counted(*args: Any) -> Any:
        formed = real_write_round(*args)
        written.append(formed)
        return formed

    monkeypatch.setattr(export_rounds, "write_round", counted)
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert report.failed == []
    assert delivered_users(runtime) == Counter(list(credentials))  # each claim once
    assert unbatched(runtime) == []
    assert len(written) == 6 and all(len(formed or []) == 1 for formed in written)  # the later rounds
    # Delivered nearest deadline first, across the rounds as they landed.
    with read_session(runtime.sessions) as session:
        deadline_of = dict(session.execute(select(models.ExportBatch.id, models.ExportBatch.deadline_at)).tuples().all())
    delivered = [(d["credential"], deadline_of[d["batch"]]) for d in report.delivered]
    assert [credential for credential, _ in delivered] == [
        "acmss-cmss", "aama-cma", "aama-cma", "acmss-cmss", "acmss-cmss", "iacet-ceu", "iacet-ceu"]
    deadlines = [deadline for _, deadline in delivered if deadline is not None]
    assert deadlines == sorted(deadlines)
    for credential, users, _, status in batches(runtime):  # each batch's key names its claims
        assert status == "delivered" and {credentials[u] for u in users} == {credential}
    assert run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports).delivered == []


@pytest.mark.parametrize(("per_batch", "found"), [(2, "formed the same batches"), (3, "in another batch now")],
                         ids=["into-the-same-batches", "into-other-batches"])
def test_a_round_whose_claims_another_tick_batched_writes_nothing(
    runtime: Runtime, tmp_path: Path, per_batch: int, found: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The same batches (their keys exist) or others (the claims are in a batch): either way the
    round rolls back."""
    configure(runtime, tmp_path, SETTINGS)
    credit_many(runtime)
    now = models.utcnow()
    with read_session(runtime.sessions) as session:
        plan = plan_batches(session, now, runtime.exports)
    (tmp_path / "other").mkdir()
    configure(runtime, tmp_path / "other", SETTINGS.replace("= 2", f"= {per_batch}"))
    with write_session(runtime.sessions) as session:  # another tick, between the plan and its round
        other = form_batches(session, now, runtime.exports, credentials=["iacet-ceu"])
    with caplog.at_level("INFO", logger="lti_tool.services.export_rounds"):
        assert write_round(runtime.sessions, plan) is None
    assert found in caplog.text  # the batch's key, or the claims' batch, told
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(models.ExportBatch)) == len(other) == 4 - per_batch
    assert len(unbatched(runtime)) == 8  # the others, for the next plan
    later = write_round(runtime.sessions, [p for p in plan if p.row["credential"] != "iacet-ceu"])
    assert later is not None and len(later) == 5
    assert unbatched(runtime) == []


def test_two_ticks_writing_the_same_round_at_once_batch_each_claim_once(runtime: Runtime, tmp_path: Path) -> None:
    """The second writer waits for the first (its row locks on PostgreSQL, the writer's turn on
    SQLite), then finds the claims taken and rolls back."""
    configure(runtime, tmp_path, SETTINGS)
    credit_many(runtime)
    now = models.utcnow()
    with read_session(runtime.sessions) as session:
        plan = plan_batches(session, now, runtime.exports)
    outcome: list[object] = []
    with write_session(runtime.sessions) as session:
        first = write_batches(session, plan)

        def second() -> None:
            try:
                with write_session(runtime.sessions) as other:
                    outcome.append(write_batches(other, plan))
            except ClaimsTaken as taken:
                outcome.append(taken)

        racer = threading.Thread(target=second)
        racer.start()
        racer.join(0.5)
        assert racer.is_alive() and outcome == []  # waiting for the first writer
    racer.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], ClaimsTaken)
    with read_session(runtime.sessions) as session:
        assert sorted(session.scalars(select(models.ExportBatch.id))) == sorted(first)
    assert unbatched(runtime) == []


def test_a_round_that_fails_leaves_the_rounds_before_it_delivered_and_the_rest_to_the_next_tick(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rounds_mode: str
) -> None:
    configure(runtime, tmp_path, SETTINGS)
    credentials = credit_many(runtime)
    monkeypatch.setattr(export_rounds, "ROUND_CLAIMS", 4)  # rounds of two batches: three rounds
    real_write_batches = export_rounds.write_batches
    calls = []

    def failing_third(*args: Any) -> list[int]:
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real_write_batches(*args)

    monkeypatch.setattr(export_rounds, "write_batches", failing_third)
    formed_by = []
    real_run = export_rounds.Former._run

    def run(former: export_rounds.Former) -> None:
        formed_by.append(threading.current_thread().name)
        real_run(former)

    monkeypatch.setattr(export_rounds.Former, "_run", run)
    with pytest.raises(RuntimeError, match="went away"):
        run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert formed_by == ["export-forming" if rounds_mode == "overlapped" else threading.current_thread().name]
    assert sum(delivered_users(runtime).values()) == 8  # the first two rounds: four batches
    assert len(unbatched(runtime)) == 3  # the failed round wrote nothing
    monkeypatch.setattr(export_rounds, "write_batches", real_write_batches)
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert sum(d["claims"] for d in report.delivered) == 3
    assert delivered_users(runtime) == Counter(list(credentials))


def test_the_deadline_order_takes_in_each_round_as_it_lands() -> None:
    from lti_tool.services.export_lease import BatchFacts

    def facts(batch_id: int, day: int | None) -> BatchFacts:
        deadline = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=day) if day is not None else None
        return BatchFacts(batch_id, "c", "d", "claims-csv", f"k{batch_id}", COMPLETED, deadline, 0)

    landed: export_rounds.Landed = queue.Queue()
    order = in_deadline_order([facts(1, 5), facts(2, None), facts(3, 1)], landed)
    assert next(order).id == 3
    landed.put([facts(4, 0), facts(5, None)])
    assert next(order).id == 4  # landed since: nearer than those read before
    landed.put(None)
    assert [b.id for b in order] == [1, 2, 5]


def test_a_round_due_to_land_with_a_nearer_batch_is_waited_for_after_recording_the_last() -> None:
    from lti_tool.services.export_lease import BatchFacts

    def facts(batch_id: int, day: int) -> BatchFacts:
        return BatchFacts(batch_id, "c", "d", "claims-csv", f"k{batch_id}", COMPLETED,
                          datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=day), 0)

    landed: export_rounds.Landed = queue.Queue()
    settled = []

    def settle() -> None:  # the round lands while the tick waits for it
        settled.append(True)
        landed.put([facts(7, 2)])
        landed.put(None)

    soon = planned(1, datetime(2027, 1, 3, tzinfo=UTC))
    order = in_deadline_order([facts(1, 0), facts(2, 9)], landed, [export_rounds.planned_order(soon)], settle)
    assert next(order).id == 1 and settled == []  # nearer than the round's: no wait
    assert next(order).id == 7 and settled == [True]  # the round's batch is nearer than 2: waited for it
    assert [b.id for b in order] == [2]


def test_the_batch_sent_last_is_recorded_before_the_tick_waits_for_a_round(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while the tick waits for a slow round must not leave an accepted batch unrecorded
    (it would be sent again once its lease ran out)."""
    configure(runtime, tmp_path, SETTINGS)
    credit_many(runtime)
    monkeypatch.setattr(export_rounds, "OVERLAPPED", frozenset({runtime.engine.dialect.name}))
    monkeypatch.setattr(export_rounds, "ROUND_CLAIMS", 2)
    real_write_round = export_rounds.write_round
    recorded_while_waiting = []

    def slow_second_round(*args: Any) -> Any:
        if not recorded_while_waiting:  # the first later round: the tick has sent round one's batch
            deadline = time.monotonic() + 10
            while not (delivered := delivered_batches(runtime)) and time.monotonic() < deadline:
                time.sleep(0.02)
            recorded_while_waiting.append(delivered)
        return real_write_round(*args)

    monkeypatch.setattr(export_rounds, "write_round", slow_second_round)
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert recorded_while_waiting == [1]  # recorded as delivered while the second round was written
    assert len(report.delivered) == 7


def delivered_batches(runtime: Runtime) -> int:
    with read_session(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(models.ExportBatch)
                              .where(models.ExportBatch.status == "delivered")) or 0


@pytest.mark.parametrize("few", [5_000, 1], ids=["learners-named", "every-learner-read"])
@pytest.mark.parametrize("requirement", ["number", "consent"])
def test_a_batch_whose_learner_is_no_longer_ready_when_its_round_is_written_is_left_out(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
    requirement: str, few: int,
) -> None:
    """Checked again in the round's transaction: n2's number removed, or consent withdrawn, after
    the plan was read leaves n2's batch out; the others are written."""
    from lti_tool.services import claim_readiness

    monkeypatch.setattr(claim_readiness, "_FEW", few)
    configure(runtime, tmp_path, SETTINGS.replace(
        'requires = []\ndeadline_days = 10', f'requires = ["{requirement}"]\ndeadline_days = 10'))
    for user in ("n1", "n2", "n3"):
        credit(runtime.sessions, user, "1", credential="acmss-cmss", number=f"CMSS-{user}")
    if requirement == "consent":
        with write_session(runtime.sessions) as session:
            session.add_all(models.ReportConsent(learner_id=learner, credential="acmss-cmss")
                            for learner in session.scalars(select(models.Learner.id)))
    now = models.utcnow()
    with read_session(runtime.sessions) as session:
        plan = plan_batches(session, now, runtime.exports)
    assert [p.size for p in plan] == [2, 1]  # n1 and n2, then n3
    with write_session(runtime.sessions) as session:
        n2 = session.scalar(select(models.Learner.id).where(models.Learner.lms_user_id == "n2"))
        if requirement == "number":
            session.execute(models.LearnerCredential.__table__.update()
                            .where(models.LearnerCredential.learner_id == n2).values(number=None))
        else:
            session.execute(models.ReportConsent.__table__.update()
                            .where(models.ReportConsent.learner_id == n2).values(withdrawn_at=now))
    with caplog.at_level("INFO", logger="lti_tool.services.export_batching"):
        formed = write_round(runtime.sessions, plan)
    assert formed is not None and len(formed) == 1
    assert "1 learner(s) no longer have what their body requires" in caplog.text
    assert unbatched(runtime) == ["n1", "n2"]  # n1 shared n2's batch: planned again next time
    assert [users for _, users, _, _ in batches(runtime)] == [["n3"]]
    with write_session(runtime.sessions) as session:  # the next plan leaves n2's claim waiting
        form_batches(session, now, runtime.exports)
    assert unbatched(runtime) == ["n2"]


def test_a_deadlock_between_two_ticks_rolls_the_round_back(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL refuses one of two transactions that wait for each other's claims (40P01)."""
    from lti_tool.services import export_batching

    class Deadlock(Exception):
        sqlstate = "40P01"

    def deadlocked(*args: Any) -> int:
        raise OperationalError("UPDATE outbox_claims …", {}, Deadlock("deadlock detected"))

    configure(runtime, tmp_path, SETTINGS)
    credit_many(runtime)
    with read_session(runtime.sessions) as session:
        plan = plan_batches(session, models.utcnow(), runtime.exports)
    monkeypatch.setattr(export_batching, "assign", deadlocked)
    assert write_round(runtime.sessions, plan) is None
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(models.ExportBatch)) == 0

    class Other(Exception):
        sqlstate = "57014"  # any other refusal is the tick's error

    def cancelled(*args: Any) -> int:
        raise OperationalError("UPDATE outbox_claims …", {}, Other("canceling statement"))

    monkeypatch.setattr(export_batching, "assign", cancelled)
    with pytest.raises(OperationalError):
        write_round(runtime.sessions, plan)


def test_two_ticks_that_planned_the_same_claims_deliver_every_claim_once(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rounds_mode: str,
    caplog: pytest.LogCaptureFixture
) -> None:
    """Both ticks read the same plan before either writes a round (a barrier after planning), so
    they do overlap: one of them finds its claims taken and forms no more."""
    configure(runtime, tmp_path, SETTINGS)
    credentials = credit_many(runtime)
    monkeypatch.setattr(export_rounds, "ROUND_CLAIMS", 2)
    both_planned = threading.Barrier(2, timeout=20)
    plan = exporting.plan_batches

    def planned_together(*args: Any, **kwargs: Any) -> list[PlannedBatch]:
        made = plan(*args, **kwargs)
        both_planned.wait()
        return made

    monkeypatch.setattr(exporting, "plan_batches", planned_together)
    with caplog.at_level(logging.INFO, logger="lti_tool.services.export_rounds"):
        run_two_ticks(runtime, gap=0.0)  # neither raises nor hangs
    assert any("forms no more batches" in r.getMessage() for r in caplog.records), "the ticks did not overlap"
    monkeypatch.setattr(exporting, "plan_batches", plan)
    run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)  # what a stopped one left
    assert delivered_users(runtime) == Counter(list(credentials))
    for credential, users, _, status in batches(runtime):
        assert status == "delivered" and users and {credentials[u] for u in users} == {credential}
