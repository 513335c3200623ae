"""Multi-row inserts as SQL text store exactly what the ORM's statements store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, UniqueConstraint, func, insert, select
from sqlalchemy.exc import IntegrityError

from lti_tool.db import make_engine, session_factory, write_session
from lti_tool.models.base import Credit, UtcDateTime
from lti_tool.row_inserts import (
    bound_values,
    covers_defaults,
    execute_values,
    reserve_ids,
    reserved_ids,
    rows_per_statement,
)
from lti_tool.row_writes import insert_many, insert_many_or_skip, insert_rows


def _typed_table(url: str, name: str) -> tuple[Any, Table]:
    engine = make_engine(url)
    metadata = MetaData()
    table = Table(
        name, metadata,
        Column("id", Integer, primary_key=True),
        Column("owner", Integer, nullable=False),
        Column("at", UtcDateTime, nullable=False),
        Column("amount", Credit),
        Column("facts", JSON),
        Column("note", String(40)),
        UniqueConstraint("owner", "at"),
    )
    metadata.drop_all(engine)
    metadata.create_all(engine)
    return engine, table


def _row(owner: int, at: datetime, facts: object, amount: Decimal | None = Decimal("1.50")) -> dict[str, Any]:
    return {"owner": owner, "at": at, "amount": amount, "facts": facts, "note": f"n{owner}"}


def test_rows_written_as_text_read_back_as_the_orm_writes_them(database_url: str) -> None:
    engine, table = _typed_table(database_url, "typed_fast")
    sessions = session_factory(engine)
    eastern = timezone(timedelta(hours=-5))
    shared = {"approved_by": ["AAMA"], "hours": None}
    rows = [_row(1, datetime(2024, 1, 1, 7, tzinfo=eastern), shared),
            _row(2, datetime(2024, 1, 1, 12, tzinfo=UTC), shared, None),
            _row(3, datetime(2024, 1, 2, tzinfo=UTC), {"other": 1})]
    with write_session(sessions) as session:
        fast = insert_many_or_skip(session, table, rows, ("owner", "at"))
        session.execute(insert(table), [{**row, "owner": row["owner"] + 10} for row in rows])  # the ORM's way
    with sessions() as session:
        stored = {r.owner: r for r in session.execute(select(table))}
    assert all(isinstance(i, int) for i in fast)
    for owner in (1, 2, 3):
        mine, theirs = stored[owner], stored[owner + 10]
        assert (mine.at, mine.amount, mine.facts, mine.note) == (theirs.at, theirs.amount, theirs.facts, theirs.note)
    assert stored[1].at == datetime(2024, 1, 1, 12, tzinfo=UTC) and stored[1].amount == Decimal("1.5")
    assert stored[2].amount is None and stored[1].facts == shared
    engine.dispose()


def test_a_key_met_again_as_bound_is_skipped_whatever_zone_it_was_written_in(database_url: str) -> None:
    """Keys are matched as the database stores them: 07:00 at UTC-5 is 12:00 UTC, the same key."""
    engine, table = _typed_table(database_url, "typed_keys")
    sessions = session_factory(engine)
    noon = datetime(2024, 1, 1, 12, tzinfo=UTC)
    with write_session(sessions) as session:
        [first] = insert_many_or_skip(session, table, [_row(1, noon, {})], ("owner", "at"))
    with write_session(sessions) as session:
        again = insert_many_or_skip(session, table, [
            _row(1, noon.astimezone(timezone(timedelta(hours=-5))), {}),  # in the table already
            _row(2, noon, {}), _row(2, noon, {"repeated": True}),       # repeated in this call
        ], ("owner", "at"))
    assert isinstance(first, int) and again[0] is None and isinstance(again[1], int) and again[2] is None
    engine.dispose()


def test_more_rows_than_one_statement_holds_all_get_their_ids(database_url: str) -> None:
    engine, table = _typed_table(database_url, "typed_many")
    sessions = session_factory(engine)
    per_statement = rows_per_statement(engine.dialect, len(table.columns) - 1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [_row(i, start + timedelta(minutes=i), {"i": i}) for i in range(per_statement * 2 + 3)]
    with write_session(sessions) as session:
        ids = insert_many_or_skip(session, table, rows, ("owner", "at"))
        insert_rows(session, table, [_row(i + len(rows), start, None) for i in range(per_statement + 1)])
    with sessions() as session:
        stored = {owner: row_id for owner, row_id in session.execute(select(table.c.owner, table.c.id))}
    assert ids == [stored[i] for i in range(len(rows))] and len(set(ids)) == len(rows)
    assert len(stored) == len(rows) + per_statement + 1
    engine.dispose()


def test_one_object_in_columns_of_two_types_is_bound_for_each_column_s_type() -> None:
    engine = make_engine("sqlite://")
    metadata = MetaData()
    table = Table("two", metadata, Column("id", Integer, primary_key=True), Column("text", String(10)),
                  Column("json", JSON))
    same = "x"
    [values] = bound_values(engine.dialect, table, ("text", "json"), [{"text": same, "json": same}])
    assert values == ("x", '"x"')


def test_rows_that_leave_out_a_column_with_a_python_default_take_sqlalchemy_s_path() -> None:
    metadata = MetaData()
    table = Table("defaults", metadata, Column("id", Integer, primary_key=True), Column("n", Integer, default=0),
                  Column("m", Integer))
    assert covers_defaults(table, ("n", "m")) and not covers_defaults(table, ("m",))


def test_insert_many_gives_each_row_its_own_id_in_order_over_several_statements(database_url: str) -> None:
    """Rows that differ only in what they carry get the ids of their own rows, in the order given,
    including past the rows one statement holds (each statement's ids sorted, not as returned)."""
    engine, table = _typed_table(database_url, "typed_ordered")
    sessions = session_factory(engine)
    per_statement = rows_per_statement(engine.dialect, len(table.columns))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [_row(i, start + timedelta(minutes=i), {"i": i}) for i in range(per_statement + 5)]
    rows.reverse()  # the ids' order must follow the rows', not the owners'
    with write_session(sessions) as session:
        ids = insert_many(session, table, rows)
    with sessions() as session:
        stored = {row_id: (owner, facts) for row_id, owner, facts in
                  session.execute(select(table.c.id, table.c.owner, table.c.facts))}
    assert [stored[row_id] for row_id in ids] == [(row["owner"], row["facts"]) for row in rows]
    assert ids == sorted(ids)
    engine.dispose()


def test_reserved_ids_are_new_and_taken_by_the_rows_inserted_with_them(database_url: str) -> None:
    """Ids reserved in a transaction are above every stored id and take the rows inserted with
    them later in the transaction; an insert that lets the database choose afterwards draws
    others (on PostgreSQL even one made meanwhile by another transaction)."""
    engine, table = _typed_table(database_url, "typed_reserved")
    sessions = session_factory(engine)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    columns = ("id", "owner", "at", "amount", "facts", "note")
    with write_session(sessions) as session:
        stored = insert_many(session, table, [_row(i, start + timedelta(minutes=i), None) for i in range(3)])
    with write_session(sessions) as session:
        connection = session.connection()
        reserve = reserve_ids(connection.dialect, table, 4)
        ids = reserved_ids(connection.dialect, connection.exec_driver_sql(*reserve).all(), 4)
        meanwhile = []
        if connection.dialect.name == "postgresql":  # SQLite lets no other transaction write meanwhile
            with write_session(sessions) as other:
                meanwhile = insert_many(other, table, [_row(11, start, None)])
        rows = [{"id": row_id, **_row(20 + n, start, {"n": n})} for n, row_id in enumerate(ids)]
        execute_values(connection, table, columns, bound_values(connection.dialect, table, columns, rows))
        chosen = insert_many(session, table, [_row(10, start, None)])
    assert len(set(ids)) == 4 and ids == sorted(ids) and min(ids) > max(stored)
    assert not set(ids) & set(chosen + meanwhile)
    with sessions() as session:
        owners = dict(session.execute(select(table.c.id, table.c.owner)).tuples().all())
    assert {row_id: owners[row_id] for row_id in ids} == {row_id: 20 + n for n, row_id in enumerate(ids)}
    engine.dispose()


def _outcome(sessions: Any, write: Any) -> str:
    """What a write of an over-long text came to: refused, or the text as stored."""
    try:
        with write_session(sessions) as session:
            write(session)
    except Exception as exc:  # noqa: BLE001 - the database's refusal is the outcome compared
        return f"refused: {type(exc).__name__}"
    return "stored"


def test_an_over_long_text_is_refused_as_the_orm_s_insert_refuses_it_never_stored_cut(database_url: str) -> None:
    """PostgreSQL refuses a text longer than its column on insert, but an explicit ``::VARCHAR(n)``
    cast cuts it silently: the fast paths must not store a cut value where the ORM's would fail."""
    engine, table = _typed_table(database_url, "typed_long")
    sessions = session_factory(engine)
    long_note = "x" * 41
    at = datetime(2024, 1, 1, tzinfo=UTC)

    def orm(session: Any) -> None:
        session.execute(insert(table), [{**_row(1, at, None), "note": long_note}])

    def fast(session: Any) -> None:
        insert_many(session, table, [{**_row(2, at, None), "note": long_note}])

    expected = _outcome(sessions, orm)
    assert _outcome(sessions, fast) == expected
    with sessions() as session:
        notes = set(session.scalars(select(table.c.note)))
    assert not any(note and 40 <= len(note) < 41 for note in notes), notes
    engine.dispose()


def test_a_statement_the_driver_refuses_is_raised_as_sqlalchemy_raises_it_and_nothing_stays(database_url: str) -> None:
    """The fast paths run on the driver's cursor: a refusal still comes as SQLAlchemy's exception
    (callers and tests name those), and the caller's transaction rolls back whole."""
    engine, table = _typed_table(database_url, "typed_refused")
    sessions = session_factory(engine)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    columns = ("owner", "at", "amount", "facts", "note")
    with pytest.raises(IntegrityError):
        with write_session(sessions) as session:
            connection = session.connection()
            values = bound_values(connection.dialect, table, columns, [_row(1, at, None), _row(1, at, None)])
            execute_values(connection, table, columns, values[:1])
            execute_values(connection, table, columns, values[1:])  # the same (owner, at): refused
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(table)) == 0
    with write_session(sessions) as session:  # the connection went back to the pool usable
        insert_rows(session, table, [_row(2, at, None)])
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(table)) == 1
    engine.dispose()

