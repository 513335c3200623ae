"""Multi-row inserts as SQL text store exactly what the ORM's statements store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, UniqueConstraint, insert, select

from lti_tool.db import insert_many_or_skip, insert_rows, make_engine, session_factory, write_session
from lti_tool.models.base import Credit, UtcDateTime
from lti_tool.row_inserts import bound_values, covers_defaults, rows_per_statement


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
