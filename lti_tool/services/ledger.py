"""The append-only ledger: awards, their credit and reversal entries, and their outbox claims.

An award, its ledger entry and its outbox claim are written in the caller's transaction, together or
not at all. Nothing here updates or deletes a row: a correction is a reversing entry.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import operator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Connection, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from lti_tool import models, text
from lti_tool.credits import api
from lti_tool.db import flushed_connection, insert_many_or_skip, insert_rows, table_of
from lti_tool.row_inserts import bound_values, covers_defaults, placeholder, rows_per_statement, typed_placeholders


class AwardNotFound(LookupError):
    pass


def idempotency_key(credential: str, award_id: int, kind: str, amount: Decimal) -> str:
    """The key a claim travels with: derived from the award and its content, stable across retries."""
    before, after = _key_around_id(credential, kind, amount)
    return hashlib.sha256(f"{before}{award_id}{after}".encode()).hexdigest()


def _key_around_id(credential: str, kind: str, amount: Decimal) -> tuple[str, str]:
    """The text :func:`idempotency_key` hashes, before and after the award's id (a statement that
    draws the id puts it between them: :func:`_awards_with_entries`)."""
    return f"{credential}|", f"|{kind}|{amount}"


def activity_facts(activity: api.Activity) -> dict[str, object]:
    """The activity as JSON-able facts, kept with the award as evidence."""
    facts = {f.name: getattr(activity, f.name) for f in dataclasses.fields(activity)}  # flat: no deep copy
    facts["approved_by"] = sorted(activity.approved_by)
    facts["hours"] = None if activity.hours is None else str(activity.hours)
    return facts


class CompletionFacts(Protocol):
    """What crediting needs of a completion (a model row, or the values just inserted)."""

    @property
    def id(self) -> int: ...
    @property
    def learner_id(self) -> int: ...
    @property
    def source_id(self) -> int: ...
    @property
    def course_id(self) -> str: ...
    @property
    def completed_at(self) -> datetime: ...
    @property
    def measured_minutes(self) -> int | None: ...


@dataclass(frozen=True)
class KnownCompletion:
    """:class:`CompletionFacts` without a model row: a completion just inserted, or an award's."""

    id: int
    learner_id: int
    source_id: int
    course_id: str
    completed_at: datetime
    measured_minutes: int | None


@dataclass(frozen=True)
class NewAward:
    """An award a plugin granted, with what it is kept with as evidence."""

    completion: CompletionFacts
    result: api.Award
    activity: api.Activity
    rule_version: str
    settings: dict[str, str]
    revision: int = 0
    key: api.RepeatKey | None = None
    """The plugin's retake key; ``None`` keys the award by its completion alone (no retake policy:
    used only where the caller carries no rule, such as fixtures)."""

    def repeat_key(self) -> api.RepeatKey:
        if self.key is not None:
            return self.key
        return api.RepeatKey(f"course:{self.completion.course_id}", f"completion:{self.completion.id}",
                             "this completion")


AWARD_KEY = ("learner_id", "credential", "course_key", "period", "revision")
"""The retake key: one award per learner, credential, course and period (and revision)."""


def record_awards(session: Session, awards: list[NewAward]) -> list[int | None]:
    """Append awards with their credit entries and outbox claims, a few statements for all of
    them; return each award's id in the order given, or ``None`` where it was awarded already:
    for the same completion, or for the same course in the same period (either unique key)."""
    for new in awards:
        if not isinstance(new.result.amount, Decimal):
            raise TypeError("a plugin returned a non-Decimal amount")
    now = models.utcnow()
    evidence = _Evidence()
    rows = [_award_row(new, now, evidence) for new in awards]
    connection = flushed_connection(session)
    if connection.dialect.name == "postgresql" and rows and covers_defaults(_AWARDS, tuple(rows[0])):
        return _awards_with_entries(connection, awards, rows)
    ids = insert_many_or_skip(session, models.Award.__table__, rows, AWARD_KEY, any_conflict=True)
    _append_entries(session, [
        _Entry(award_id, new.result.credential, models.EntryKind.CREDIT, new.result.amount, new.result.reason)
        for award_id, new in zip(ids, awards, strict=True) if award_id is not None
    ])
    return ids


class _Evidence:
    """The JSON-able facts of each activity and the tags of each result, made once per object: the
    awards of one set share a few activities and results (one per course mapping), and the same
    object then binds its JSON once (:mod:`lti_tool.row_inserts`)."""

    def __init__(self) -> None:
        self._facts: dict[int, tuple[api.Activity, dict[str, object]]] = {}
        self._tags: dict[int, tuple[api.Award, list[str]]] = {}

    def facts(self, activity: api.Activity) -> dict[str, object]:
        known = self._facts.get(id(activity))
        if known is None:  # the tuple keeps the activity alive, so its id is not reused
            known = self._facts[id(activity)] = (activity, activity_facts(activity))
        return known[1]

    def tags(self, result: api.Award) -> list[str]:
        known = self._tags.get(id(result))
        if known is None:
            known = self._tags[id(result)] = (result, sorted(result.tags))
        return known[1]


def record_award(
    session: Session,
    completion: CompletionFacts,
    result: api.Award,
    *,
    activity: api.Activity,
    rule_version: str,
    settings: dict[str, str],
    revision: int = 0,
    key: api.RepeatKey | None = None,
) -> int | None:
    """:func:`record_awards` for one award."""
    return record_awards(
        session, [NewAward(completion, result, activity, rule_version, settings, revision, key)])[0]


def _award_row(new: NewAward, now: datetime, evidence: _Evidence) -> dict[str, object]:
    completion, result, key = new.completion, new.result, new.repeat_key()
    return {
        "completion_id": completion.id,
        "learner_id": completion.learner_id,
        "source_id": completion.source_id,
        "course_id": completion.course_id,
        "credential": result.credential,
        "course_key": key.course,
        "period": key.period,
        "revision": new.revision,
        "amount": result.amount,
        "unit": result.unit,
        "category": result.category,
        "index_number": result.index_number,
        "reason": result.reason,
        "tags": evidence.tags(result),
        "minutes": new.activity.minutes,
        "activity": evidence.facts(new.activity),
        "rule_version": new.rule_version,
        "settings": new.settings,
        "completed_at": completion.completed_at,
        "created_at": now,
    }


REASON_LIMIT = 1000
"""A ledger entry's reason column."""


def revoke_award(session: Session, award_id: int, reason: str) -> models.LedgerEntry | None:
    """Reverse an award; ``None`` if it was reversed already (revoking twice reverses once)."""
    award = session.get(models.Award, award_id)
    if award is None:
        raise AwardNotFound(f"no award with id {award_id}")
    if not reason.strip():
        raise ValueError("a revocation needs a reason")
    reason = text.checked(reason, "reason", REASON_LIMIT)  # one line: it is sent with the retraction
    [entry_id] = _append_entries(
        session, [_Entry(award.id, award.credential, models.EntryKind.REVERSAL, -award.amount, reason)])
    return None if entry_id is None else session.get(models.LedgerEntry, entry_id)


@dataclass(frozen=True)
class _Entry:
    award_id: int
    credential: str
    kind: str
    amount: Decimal
    reason: str


def _append_entries(session: Session, entries: list[_Entry]) -> list[int | None]:
    """Append ledger entries and an outbox claim for each new one; ``None`` where the award has
    that kind of entry already."""
    now = models.utcnow()
    rows = [{"award_id": e.award_id, "kind": e.kind, "amount": e.amount, "reason": e.reason, "created_at": now}
            for e in entries]
    claims = [{"credential": e.credential, "created_at": now,
               "idempotency_key": idempotency_key(e.credential, e.award_id, e.kind, e.amount)} for e in entries]
    connection = flushed_connection(session)
    if connection.dialect.name == "postgresql" and entries:
        return _entries_with_claims(connection, rows, claims)
    ids = insert_many_or_skip(session, _ENTRIES, rows, ("award_id", "kind"))
    insert_rows(session, _CLAIMS, [{"ledger_entry_id": entry_id, **claim}
                                   for entry_id, claim in zip(ids, claims, strict=True) if entry_id is not None])
    return ids


_ENTRIES = table_of(models.LedgerEntry)
_CLAIMS = table_of(models.OutboxClaim)
_ENTRY_COLUMNS = ("award_id", "kind", "amount", "reason", "created_at")
_CLAIM_COLUMNS = ("credential", "idempotency_key", "created_at")


@functools.lru_cache(maxsize=64)
def _entries_with_claims_statement(dialect: Dialect, count: int) -> str:
    """PostgreSQL: the entries and the claims of those inserted, in one statement (one round trip)."""
    mark = placeholder(dialect)
    entry_row = "(" + ", ".join([mark] * len(_ENTRY_COLUMNS)) + ")"
    claim_row = typed_placeholders(dialect, _ENTRIES, ("award_id", "kind"))[:-1] + ", " + \
        typed_placeholders(dialect, _CLAIMS, _CLAIM_COLUMNS)[1:]
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


def _entries_with_claims(connection: Connection, rows: list[dict[str, object]],
                         claims: list[dict[str, object]]) -> list[int | None]:
    """:func:`_append_entries` on PostgreSQL: the unique key (award, kind) still decides which
    entries are new (``ON CONFLICT DO NOTHING``), and a claim is made for exactly those, by the
    entry's key, in the same statement. A key repeated in ``rows`` is inserted once (its first row)."""
    dialect = connection.dialect
    entry_values = bound_values(dialect, _ENTRIES, _ENTRY_COLUMNS, rows)
    claim_values = bound_values(dialect, _CLAIMS, _CLAIM_COLUMNS, claims)
    first: dict[tuple[object, object], int] = {}
    for index, values in enumerate(entry_values):
        first.setdefault((values[0], values[1]), index)
    order = [first[key] for key in sorted(first)]  # key order: concurrent writers lock rows alike
    step = rows_per_statement(dialect, len(_ENTRY_COLUMNS) + 2 + len(_CLAIM_COLUMNS))
    returned: dict[tuple[object, object], int] = {}
    for start in range(0, len(order), step):
        part = order[start:start + step]
        parameters = tuple(itertools.chain(
            itertools.chain.from_iterable(entry_values[i] for i in part),
            itertools.chain.from_iterable((*entry_values[i][:2], *claim_values[i]) for i in part)))
        result = connection.exec_driver_sql(_entries_with_claims_statement(dialect, len(part)), parameters)
        returned.update({(award_id, kind): entry_id for entry_id, award_id, kind in result.cursor.fetchall()})
        result.close()
    strangers = [key for key in returned if key not in first]
    if strangers:
        raise ValueError(f"the database returned keys it was not sent: {strangers[:3]!r}")
    return [returned.get((values[0], values[1])) if first[(values[0], values[1])] == index else None
            for index, values in enumerate(entry_values)]


_AWARDS = table_of(models.Award)


@functools.lru_cache(maxsize=64)
def _awards_with_entries_statement(dialect: Dialect, columns: tuple[str, ...], count: int) -> str:
    """PostgreSQL: the awards, the credit entries of those inserted and their claims, one statement."""
    mark = placeholder(dialect)
    award_row = "(" + ", ".join([mark] * len(columns)) + ")"
    key_row = typed_placeholders(dialect, _AWARDS, AWARD_KEY)[:-1] + f", {mark}::text, {mark}::text)"
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


def _awards_with_entries(connection: Connection, awards: list[NewAward],
                         rows: list[dict[str, object]]) -> list[int | None]:
    """:func:`record_awards` on PostgreSQL in one round trip: the awards' unique keys decide which
    are new (``ON CONFLICT DO NOTHING``, as :func:`lti_tool.db.insert_many_or_skip` with
    ``any_conflict``), and only those get a credit entry (its own key still deciding) and a claim
    for the entry, keyed as :func:`idempotency_key` keys it. An award key repeated in ``rows`` is
    inserted once (its first row)."""
    dialect = connection.dialect
    columns = tuple(rows[0])
    values = bound_values(dialect, _AWARDS, columns, rows)
    key_of = operator.itemgetter(*(columns.index(c) for c in AWARD_KEY))
    keys: list[tuple[object, ...]] = [key_of(row) for row in values]
    first: dict[tuple[object, ...], int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    try:
        order = [first[key] for key in sorted(first)]  # key order: concurrent writers lock rows alike
    except TypeError:
        order = [first[key] for key in sorted(first, key=repr)]
    step = rows_per_statement(dialect, len(columns) + len(AWARD_KEY) + 2)
    returned: dict[tuple[object, ...], int] = {}
    for start in range(0, len(order), step):
        part = order[start:start + step]
        around = [_key_around_id(awards[i].result.credential, models.EntryKind.CREDIT, awards[i].result.amount)
                  for i in part]
        parameters = tuple(itertools.chain(
            itertools.chain.from_iterable(values[i] for i in part),
            (models.EntryKind.CREDIT.value,),
            itertools.chain.from_iterable((*keys[i], *texts) for i, texts in zip(part, around, strict=True))))
        result = connection.exec_driver_sql(_awards_with_entries_statement(dialect, columns, len(part)), parameters)
        returned.update({tuple(found[1:]): found[0] for found in result.cursor.fetchall()})
        result.close()
    strangers = [key for key in returned if key not in first]
    if strangers:
        raise ValueError(f"the database returned keys it was not sent: {strangers[:3]!r}")
    return [returned.get(key) if first[key] == index else None for index, key in enumerate(keys)]


def revoked_award_ids(session: Session, award_ids: list[int]) -> set[int]:
    if not award_ids:
        return set()
    rows = session.scalars(
        select(models.LedgerEntry.award_id).where(
            models.LedgerEntry.award_id.in_(award_ids), models.LedgerEntry.kind == models.EntryKind.REVERSAL
        )
    )
    return set(rows)
