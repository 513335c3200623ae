"""Ledger entries and their outbox claims: a claim for exactly each entry the unique key let in."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from sqlalchemy import select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services import ledger
from tests.exports.ledger_rows import credit


def _claims(runtime: Runtime) -> dict[int, tuple[int, str, str]]:
    """Each claim by its entry: (award, kind, idempotency key)."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(models.OutboxClaim.ledger_entry_id, models.LedgerEntry.award_id, models.LedgerEntry.kind,
                   models.OutboxClaim.idempotency_key)
            .join(models.LedgerEntry, models.LedgerEntry.id == models.OutboxClaim.ledger_entry_id))
        return {entry_id: (award_id, kind, key) for entry_id, award_id, kind, key in rows}


def test_a_key_repeated_in_one_call_or_met_again_gets_one_entry_and_one_claim(runtime: Runtime) -> None:
    first, second = credit(runtime.sessions, "1", "565"), credit(runtime.sessions, "2", "565")
    before = _claims(runtime)
    reversal = models.EntryKind.REVERSAL
    entries = [ledger._Entry(first, "acmss-cmss", reversal, Decimal("-1.5"), "withdrawn"),
               ledger._Entry(second, "acmss-cmss", reversal, Decimal("-1.5"), "withdrawn"),
               ledger._Entry(first, "acmss-cmss", reversal, Decimal("-1.5"), "repeated in the call")]
    with write_session(runtime.sessions) as session:
        ids = ledger._append_entries(session, entries)
    assert isinstance(ids[0], int) and isinstance(ids[1], int) and ids[2] is None and ids[0] != ids[1]
    with write_session(runtime.sessions) as session:
        again = ledger._append_entries(session, entries[:1])
    assert again == [None]
    added = {entry_id: claim for entry_id, claim in _claims(runtime).items() if entry_id not in before}
    assert added == {
        ids[0]: (first, reversal, ledger.idempotency_key("acmss-cmss", first, reversal, Decimal("-1.5"))),
        ids[1]: (second, reversal, ledger.idempotency_key("acmss-cmss", second, reversal, Decimal("-1.5"))),
    }


def test_two_transactions_with_overlapping_keys_make_one_entry_and_one_claim_each(runtime: Runtime) -> None:
    """Two writers append overlapping (award, kind) keys at once: the first to commit makes the shared
    entry and its claim; the other, which waited on it, gets ``None`` for it and makes no claim."""
    awards = [credit(runtime.sessions, str(n), "565") for n in (11, 12, 13)]
    before = _claims(runtime)
    reversal = models.EntryKind.REVERSAL

    def entries(*picked: int) -> list[ledger._Entry]:
        return [ledger._Entry(awards[i], "acmss-cmss", reversal, Decimal("-1.5"), "withdrawn") for i in picked]

    second_started = threading.Event()
    results: dict[str, list[int | None]] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with write_session(runtime.sessions) as session:
                results["first"] = ledger._append_entries(session, entries(0, 1))
                second_started.wait(10)
                time.sleep(0.2)  # let the second reach the shared key (an ordering aid, not asserted)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def second() -> None:
        try:
            second_started.set()
            with write_session(runtime.sessions) as session:
                results["second"] = ledger._append_entries(session, entries(2, 1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    one = threading.Thread(target=first)
    one.start()
    while "first" not in results and one.is_alive():
        time.sleep(0.01)
    two = threading.Thread(target=second)
    two.start()
    one.join(30)
    two.join(30)
    assert errors == []
    assert all(isinstance(i, int) for i in results["first"])
    assert isinstance(results["second"][0], int) and results["second"][1] is None
    added = {entry_id: claim[:2] for entry_id, claim in _claims(runtime).items() if entry_id not in before}
    assert sorted(added.values()) == sorted((award, reversal) for award in awards)
    assert set(added) == {*results["first"], results["second"][0]}
