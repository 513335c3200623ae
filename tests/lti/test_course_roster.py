"""The instructor's roster (lti_tool/web/views/course_view.py): a row per learner and credential,
searched, sorted and paged by the database, with the course's exact totals per credential."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import literal, select, union_all

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.events.completion import Completion
from lti_tool.runtime import Runtime
from lti_tool.services.ingestion import Submission, record_events
from lti_tool.services.ledger import revoke_award
from lti_tool.services.mappings import MappingSpec, apply_mapping
from lti_tool.web.views.course_view import RosterQuery, _ten_thousandths, course_roster, course_rows

NAMES = {"iacet-ceu": "Continuing Education Units (IACET convention)", "acmpe-cmpe": "CMPE"}


def map_course(runtime: Runtime, source: dict[str, Any], *credentials: str, measured: bool = False,
               minutes: int = 60) -> None:
    spec = MappingSpec(source=source["name"], course="565", credentials=list(credentials), minutes=minutes,
                       use_measured_time=measured)
    with write_session(runtime.sessions) as session:
        apply_mapping(session, runtime.rulebook, source["id"], spec)


def complete(runtime: Runtime, source: dict[str, Any], user: str, name: str, *, day: int = 2,
             minutes: int | None = None) -> None:
    completion = Completion(lms_user_id=user, course_id="565", learner_name=name, measured_minutes=minutes,
                            completed_at=datetime(2026, 11, day, 15, 0, tzinfo=UTC))
    record_events(runtime.sessions, runtime.rulebook, [
        Submission(source["id"], source["id"], "{}", "application/json", [completion])])


def roster(runtime: Runtime, source: dict[str, Any], **query: Any) -> Any:
    with read_session(runtime.sessions) as session:
        return course_roster(session, identity_id=source["id"], course_id="565", query=RosterQuery(**query),
                             names=NAMES)


def test_totals_sum_each_credential_exactly_and_count_its_learners(runtime: Runtime, source: dict[str, Any]) -> None:
    map_course(runtime, source, "iacet-ceu", "acmpe-cmpe")
    for n in range(3):
        complete(runtime, source, str(n), f"Learner {n}")
    totals = {t.credential: t for t in roster(runtime, source).totals}
    assert totals["iacet-ceu"].amount == Decimal("0.3") and totals["iacet-ceu"].learners == 3
    assert totals["acmpe-cmpe"].amount == Decimal("3") and totals["acmpe-cmpe"].unit == "credit hours"


def test_rows_are_paged_by_the_database(runtime: Runtime, source: dict[str, Any]) -> None:
    map_course(runtime, source, "iacet-ceu")
    for n in range(7):
        complete(runtime, source, str(n), f"Learner {n}")
    last = roster(runtime, source, per_page=3, page=3)
    assert last.matching == 7 and last.pages == 3
    assert [r["learner_name"] for r in last.rows] == ["Learner 6"]


def test_sorting_by_credit_puts_the_most_credit_first(runtime: Runtime, source: dict[str, Any]) -> None:
    map_course(runtime, source, "iacet-ceu", measured=True, minutes=300)  # measured time up to 300 minutes
    for user, minutes in (("a", 60), ("b", 300), ("c", 120)):
        complete(runtime, source, user, f"Learner {user}", minutes=minutes)
    rows = roster(runtime, source, sort="credit", descending=True).rows
    assert [(r["learner"], r["amount"]) for r in rows] == [("b", Decimal("0.5")), ("c", Decimal("0.2")),
                                                           ("a", Decimal("0.1"))]


def test_sorting_by_last_completion_orders_by_date(runtime: Runtime, source: dict[str, Any]) -> None:
    map_course(runtime, source, "iacet-ceu")
    for user, day in (("a", 5), ("b", 1), ("c", 9)):
        complete(runtime, source, user, f"Learner {user}", day=day)
    assert [r["learner"] for r in roster(runtime, source, sort="completed").rows] == ["b", "a", "c"]


def test_the_search_matches_the_credentials_name_and_the_learners_name(
    runtime: Runtime, source: dict[str, Any]
) -> None:
    map_course(runtime, source, "iacet-ceu", "acmpe-cmpe")
    complete(runtime, source, "1", "Ada Lovelace")
    complete(runtime, source, "2", "Grace Hopper")
    by_credential = roster(runtime, source, q="iacet convention").rows
    assert {(r["learner_name"], r["credential"]) for r in by_credential} == {
        ("Ada Lovelace", "iacet-ceu"), ("Grace Hopper", "iacet-ceu")}
    assert [r["learner_name"] for r in roster(runtime, source, q="HOPPER").rows] == ["Grace Hopper"] * 2


def test_a_search_counts_its_matches_while_the_totals_stay_the_whole_course(
    runtime: Runtime, source: dict[str, Any]
) -> None:
    map_course(runtime, source, "iacet-ceu", "acmpe-cmpe")
    for n in range(5):
        complete(runtime, source, f"grace-{n}", f"Grace {n}")
    complete(runtime, source, "ada", "Ada Lovelace")
    second = roster(runtime, source, q="grace", per_page=4, page=2)
    assert second.matching == 10 and second.pages == 3 and len(second.rows) == 4
    assert {(t.credential, t.learners) for t in second.totals} == {("iacet-ceu", 6), ("acmpe-cmpe", 6)}
    assert roster(runtime, source, q="grace", per_page=4, page=9).matching == 10  # past the end


def test_descending_sorts_reverse_the_page_but_not_the_totals(runtime: Runtime, source: dict[str, Any]) -> None:
    map_course(runtime, source, "iacet-ceu", "acmpe-cmpe")
    for user in ("a", "b", "c"):
        complete(runtime, source, user, f"Learner {user}")
    page = roster(runtime, source, sort="learner", descending=True)
    assert [(r["learner"], r["credential"]) for r in page.rows] == [
        (u, c) for u in ("c", "b", "a") for c in ("acmpe-cmpe", "iacet-ceu")]
    assert [t.credential for t in page.totals] == ["acmpe-cmpe", "iacet-ceu"]
    assert page.matching == 6


def test_search_wildcards_are_taken_literally(runtime: Runtime, source: dict[str, Any]) -> None:
    map_course(runtime, source, "iacet-ceu")
    complete(runtime, source, "1", "Ada Lovelace")
    assert roster(runtime, source, q="%").rows == [] and roster(runtime, source, q="_").rows == []


def test_a_revoked_award_leaves_the_rows_and_the_totals(runtime: Runtime, source: dict[str, Any]) -> None:
    map_course(runtime, source, "iacet-ceu")
    complete(runtime, source, "1", "Ada Lovelace")
    complete(runtime, source, "2", "Grace Hopper")
    with write_session(runtime.sessions) as session:
        award = session.scalar(select(models.Award).join(models.Learner).where(models.Learner.lms_user_id == "1"))
        assert award is not None
        revoke_award(session, award.id, "not approved")
    page = roster(runtime, source)
    assert [r["learner"] for r in page.rows] == ["2"]
    assert [(t.amount, t.learners) for t in page.totals] == [(Decimal("0.1"), 1)]


def test_the_csv_rows_are_every_row_not_one_page(runtime: Runtime, source: dict[str, Any]) -> None:
    map_course(runtime, source, "iacet-ceu")
    for n in range(60):
        complete(runtime, source, str(n), f"Learner {n:02}")
    with read_session(runtime.sessions) as session:
        rows = course_rows(session, identity_id=source["id"], course_id="565", names=NAMES)
    assert len(rows) == 60 and len(roster(runtime, source).rows) == 50


def test_a_bad_sort_or_page_in_the_address_falls_back_to_the_default() -> None:
    query = RosterQuery.from_args({"sort": "amount; drop table", "page": "-4", "dir": "sideways"})
    assert (query.sort, query.page, query.descending) == ("learner", 1, False)


def test_sqlites_exact_sum_reads_text_amounts_digit_by_digit(runtime: Runtime) -> None:
    amounts = ["0.35", "1.2345", "12", "-0.5", "0.1", "99999999.9999", "-12.3456", "-7", "0", "0.0001", "-0.25"]
    values = union_all(*[select(literal(a).label("amount")) for a in amounts]).subquery()
    with read_session(runtime.sessions) as session:
        if session.get_bind().dialect.name != "sqlite":
            return  # PostgreSQL sums its NUMERIC column itself
        got = list(session.scalars(select(_ten_thousandths(values.c.amount))))
    assert got == [3500, 12345, 120000, -5000, 1000, 999999999999, -123456, -70000, 0, 1, -2500]
