"""PostgreSQL's one-statement forms of the ledger's writes (:mod:`lti_tool.services.ledger`).

A batch of events is bound by round trips on PostgreSQL: the awards, their credit entries and
their outbox claims go in one statement (data-modifying CTEs), and so do a set of entries and their
claims. Unique keys still decide what is new (``ON CONFLICT DO NOTHING``); an entry and a claim are
made for exactly the rows the keys let in.
"""

from __future__ import annotations

import functools
import itertools
import operator

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from lti_tool import models
from lti_tool.db import table_of
from lti_tool.driver_statements import driver_execute
from lti_tool.row_inserts import bound_values, placeholder, rows_per_statement, typed_placeholders
from lti_tool.row_writes import ids_by_key, sorted_keys

AWARD_KEY = ("learner_id", "credential", "course_key", "period", "revision")
"""The retake key: one award per learner, credential, course and period (and revision)."""

ENTRIES = table_of(models.LedgerEntry)
CLAIMS = table_of(models.OutboxClaim)
_ENTRY_COLUMNS = ("award_id", "kind", "amount", "reason", "created_at")
_CLAIM_COLUMNS = ("credential", "idempotency_key", "created_at")


@functools.lru_cache(maxsize=64)
def _entries_with_claims_statement(dialect: Dialect, count: int) -> str:
    """PostgreSQL: the entries and the claims of those inserted, in one statement (one round trip)."""
    mark = placeholder(dialect)
    entry_row = "(" + ", ".join([mark] * len(_ENTRY_COLUMNS)) + ")"
    claim_row = typed_placeholders(dialect, ENTRIES, ("award_id", "kind"))[:-1] + ", " + \
        typed_placeholders(dialect, CLAIMS, _CLAIM_COLUMNS)[1:]
    return (
        f"WITH entry AS (INSERT INTO ledger_entries ({', '.join(_ENTRY_COLUMNS)}) "
        f"VALUES {', '.join([entry_row] * count)} "
        "ON CONFLICT (award_id, kind) DO NOTHING RETURNING id, award_id, kind), "
        "claim AS (INSERT INTO outbox_claims (ledger_entry_id, credential, idempotency_key, created_at) "
        "SELECT entry.id, v.credential, v.idempotency_key, v.created_at FROM entry "
        f"JOIN (VALUES {', '.join([claim_row] * count)}) AS v (award_id, kind, credential, idempotency_key, "
        "created_at) ON v.award_id = entry.award_id AND v.kind = entry.kind) "
        "SELECT id, award_id, kind FROM entry"
    )


def entries_with_claims(connection: Connection, rows: list[dict[str, object]],
                         claims: list[dict[str, object]]) -> list[int | None]:
    """:func:`~lti_tool.services.ledger._append_entries` on PostgreSQL: the unique key (award, kind) still decides which
    entries are new (``ON CONFLICT DO NOTHING``), and a claim is made for exactly those, by the
    entry's key, in the same statement. A key repeated in ``rows`` is inserted once (its first row)."""
    dialect = connection.dialect
    entry_values = bound_values(dialect, ENTRIES, _ENTRY_COLUMNS, rows)
    claim_values = bound_values(dialect, CLAIMS, _CLAIM_COLUMNS, claims)
    first: dict[tuple[object, object], int] = {}
    for index, values in enumerate(entry_values):
        first.setdefault((values[0], values[1]), index)
    order = [first[key] for key in sorted(first)]  # key order: concurrent writers lock rows alike
    step = rows_per_statement(dialect, len(_ENTRY_COLUMNS) + 2 + len(_CLAIM_COLUMNS))
    rows_back: list[tuple[object, ...]] = []
    for start in range(0, len(order), step):
        part = order[start:start + step]
        parameters = tuple(itertools.chain(
            itertools.chain.from_iterable(entry_values[i] for i in part),
            itertools.chain.from_iterable((*entry_values[i][:2], *claim_values[i]) for i in part)))
        rows_back.extend(driver_execute(connection, _entries_with_claims_statement(dialect, len(part)), parameters))
    returned = ids_by_key(rows_back, first)
    return [returned.get((values[0], values[1])) if first[(values[0], values[1])] == index else None
            for index, values in enumerate(entry_values)]


AWARDS = table_of(models.Award)


@functools.lru_cache(maxsize=64)
def _awards_with_entries_statement(dialect: Dialect, columns: tuple[str, ...], count: int) -> str:
    """PostgreSQL: the awards, the credit entries of those inserted and their claims, one statement."""
    mark = placeholder(dialect)
    award_row = "(" + ", ".join([mark] * len(columns)) + ")"
    key_row = typed_placeholders(dialect, AWARDS, AWARD_KEY)[:-1] + f", {mark}::text, {mark}::text)"
    key = ", ".join(AWARD_KEY)
    return (
        f"WITH award AS (INSERT INTO awards ({', '.join(columns)}) VALUES {', '.join([award_row] * count)} "
        f"ON CONFLICT DO NOTHING RETURNING id, {key}, amount, reason, created_at), "
        "entry AS (INSERT INTO ledger_entries (award_id, kind, amount, reason, created_at) "
        f"SELECT id, {mark}, amount, reason, created_at FROM award ORDER BY id "
        "ON CONFLICT (award_id, kind) DO NOTHING RETURNING id, award_id), "
        "claim AS (INSERT INTO outbox_claims (ledger_entry_id, credential, idempotency_key, created_at) "
        "SELECT entry.id, award.credential, "
        "encode(sha256(convert_to(v.before_id || award.id::text || v.after_id, 'UTF8')), 'hex'), award.created_at "
        "FROM entry JOIN award ON award.id = entry.award_id "
        f"JOIN (VALUES {', '.join([key_row] * count)}) AS v ({key}, before_id, after_id) "
        f"ON ({', '.join(f'v.{c}' for c in AWARD_KEY)}) = ({', '.join(f'award.{c}' for c in AWARD_KEY)})) "
        f"SELECT id, {key} FROM award"
    )


def awards_with_entries(connection: Connection, rows: list[dict[str, object]],
                        key_texts: list[tuple[str, str]]) -> list[int | None]:
    """:func:`~lti_tool.services.ledger.record_awards` on PostgreSQL in one round trip: the awards'
    unique keys decide which are new (``ON CONFLICT DO NOTHING``, as
    :func:`lti_tool.row_writes.insert_many_or_skip` with ``any_conflict``), and only those get a
    credit entry (its own key still deciding) and a claim
    for the entry, keyed as :func:`~lti_tool.services.ledger.idempotency_key` keys it: ``key_texts``
    holds, for each row, the text the key hashes before and after the award's id. An award key
    repeated in ``rows`` is inserted once (its first row)."""
    dialect = connection.dialect
    columns = tuple(rows[0])
    values = bound_values(dialect, AWARDS, columns, rows)
    key_of = operator.itemgetter(*(columns.index(c) for c in AWARD_KEY))
    keys: list[tuple[object, ...]] = [key_of(row) for row in values]
    first: dict[tuple[object, ...], int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    order = [first[key] for key in sorted_keys(first)]  # key order: concurrent writers lock rows alike
    step = rows_per_statement(dialect, len(columns) + len(AWARD_KEY) + 2)
    rows_back: list[tuple[object, ...]] = []
    for start in range(0, len(order), step):
        part = order[start:start + step]
        around = [key_texts[i] for i in part]
        parameters = tuple(itertools.chain(
            itertools.chain.from_iterable(values[i] for i in part),
            (models.EntryKind.CREDIT.value,),
            itertools.chain.from_iterable((*keys[i], *texts) for i, texts in zip(part, around, strict=True))))
        rows_back.extend(driver_execute(
            connection, _awards_with_entries_statement(dialect, columns, len(part)), parameters))
    returned = ids_by_key(rows_back, first)
    return [returned.get(key) if first[key] == index else None for index, key in enumerate(keys)]
