"""What the instructor page shows: the course's learners and the credit each earned, a row per
learner and credential, searched, sorted and paged in SQL (a course may have 10,000 learners), with
the course's totals per credential.

Amounts are summed exactly by the database: PostgreSQL sums its NUMERIC column; SQLite keeps them as
exact text (``Credit``), whose ``SUM`` would be a float, so there they are summed as whole
ten-thousandths (NUMERIC(14, 4)'s scale), read from the text by integer arithmetic alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from lti_tool import models
from lti_tool.credits.rounding import normalized
from lti_tool.text import BadText, checked, csv_cell

CSV_COLUMNS = ("learner", "learner_name", "credential", "credential_name", "amount", "unit", "category",
               "completed_at")
SORTS = ("learner", "credential", "credit", "completed")
PER_PAGE = 50
MAX_PAGE = 1_000_000
"""The highest page number asked for that is taken as asked (its offset fits a 64-bit integer on
either database); a higher one falls back to the first page like any other bad page number."""
SEARCH_LIMIT = 200


@dataclass(frozen=True)
class RosterQuery:
    """What the instructor asked for: a search, a sort column and direction, a page."""

    q: str = ""
    sort: str = "learner"
    descending: bool = False
    page: int = 1
    per_page: int | None = PER_PAGE
    """``None``: every row (the CSV)."""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> RosterQuery:
        """From the page's query string; an unknown sort or a bad page number (not a whole number,
        below 1 or above :data:`MAX_PAGE`) falls back to the default. A search holding a NUL, a
        lone surrogate or a control character is :class:`BadSearch` (no learner's name holds one,
        and PostgreSQL refuses NUL in a parameter)."""
        sort = args.get("sort", "learner")
        try:
            page = int(args.get("page", "1"))
        except ValueError:
            page = 1
        if not 1 <= page <= MAX_PAGE:
            page = 1
        return cls(q=search_text(args.get("q", "")), sort=sort if sort in SORTS else "learner",
                   descending=args.get("dir") == "desc", page=page)


class BadSearch(ValueError):
    """A search no learner could match (answered 400)."""


def search_text(q: str) -> str:
    """The instructor's search, at most :data:`SEARCH_LIMIT` characters, clean (else :class:`BadSearch`)."""
    try:
        return checked(q[:SEARCH_LIMIT], "the search", SEARCH_LIMIT, required=False)
    except BadText as exc:
        raise BadSearch(str(exc)) from None


@dataclass(frozen=True)
class CredentialTotal:
    credential: str
    credential_name: str
    unit: str
    learners: int
    amount: Decimal


@dataclass
class Roster:
    rows: list[dict[str, Any]] = field(default_factory=list)
    matching: int = 0
    """Rows matching the search, on every page."""
    totals: list[CredentialTotal] = field(default_factory=list)
    """The whole course's credit per credential, whatever the search."""
    query: RosterQuery = RosterQuery()

    @property
    def pages(self) -> int:
        per_page = self.query.per_page
        return max(1, -(-self.matching // per_page)) if per_page else 1


SCALE = Decimal("0.0001")
"""Credit's scale (NUMERIC(14, 4) on PostgreSQL): the unit SQLite's exact sums count in."""


def _ten_thousandths(amount: Any) -> ColumnElement[int]:
    """An exact text amount (``-12.3456``, ``0.2``, ``3``) as a whole number of ten-thousandths,
    by string and integer operations only (SQLite).

    ``CAST(text AS INTEGER)`` takes the longest integer prefix (``-12.3456`` -> -12, never through a
    float); the fraction is the first four digits after the dot, padded, signed like the text (so
    ``-0.5`` -> -5000, whose integer part is 0). Kept this small because it runs once per award of
    the course: the page's sums over 30,000 awards cost about what a plain ``SUM`` would."""
    amount = type_coerce(amount, String)  # text, whatever the column's type: "." binds as text
    fraction = func.substr(func.substr(amount, func.instr(amount.op("||")("."), ".") + 1).op("||")("0000"), 1, 4)
    sign = 1 - 2 * cast(func.substr(amount, 1, 1) == "-", Integer)
    return cast(amount, Integer) * 10000 + sign * cast(fraction, Integer)


def _exact_sum(session: Session) -> tuple[ColumnElement[Any], Any]:
    """SUM of the awards' amounts, exact on either database, and how to read it back as Decimal."""
    if session.get_bind().dialect.name == "postgresql":
        return func.sum(models.Award.amount), lambda value: normalized(Decimal(value or 0))
    return (func.sum(_ten_thousandths(models.Award.__table__.c.amount)),
            lambda value: normalized(Decimal(value or 0) * SCALE))


def _standing(source_id: int, course_id: str) -> Any:
    """Awards of the course that stand: not reversed in the ledger."""
    reversed_ = exists().where(models.LedgerEntry.award_id == models.Award.id,
                               models.LedgerEntry.kind == "reversal")
    return and_(models.Award.source_id == source_id, models.Award.course_id == course_id, ~reversed_)


def _matching(needle: str, names: Mapping[str, str], credential: Any) -> Any:
    """Learner name or LMS id, credential id or name (names live in the rulebook, not the database)."""
    credentials = [c for c, name in names.items() if needle in c.lower() or needle in name.lower()]
    return or_(func.lower(models.Learner.name).contains(needle, autoescape=True),
               func.lower(models.Learner.lms_user_id).contains(needle, autoescape=True),
               func.lower(credential).contains(needle, autoescape=True),
               credential.in_(credentials))


def course_roster(session: Session, *, identity_id: int | None, course_id: str | None,
                  query: RosterQuery = RosterQuery(), names: Mapping[str, str] | None = None) -> Roster:
    """One row per learner and credential (standing credit earned in this course), the page the
    query asks for, and the course's totals. ``identity_id`` is the resolved identity source
    (:func:`lti_tool.services.learners.identity_of`).

    One statement, one pass over the course's awards: they are grouped once (along the index on
    source, course, learner, credential, unit) into a common table, from which come both the page
    (learners joined to the groups, sorted, limited) and the totals per credential. Without a search
    the number of rows is the totals' count of learners (a group is one learner and one credential),
    so the page needs no count over every row; a search counts its matches with the page (a window
    over the matching rows only).

    ``names``: credential id -> its name (CMA, CMPE …), shown and searched beside the id."""
    names = names or {}
    roster = Roster(query=query)
    if identity_id is None or course_id is None:
        return roster
    needle = query.q.strip().lower()
    credit, read = _exact_sum(session)
    groups = (
        select(models.Award.learner_id, models.Award.credential, models.Award.unit,
               func.max(models.Award.completed_at).label("completed"),
               func.min(models.Award.category).label("category"), credit.label("credit"))
        .where(_standing(identity_id, course_id))
        .group_by(models.Award.learner_id, models.Award.credential, models.Award.unit)
        .cte("groups").prefix_with("MATERIALIZED")  # read twice: the page and the totals
    )
    learner_order: list[Any] = [func.coalesce(models.Learner.name, ""), models.Learner.lms_user_id]
    sort_keys: dict[str, list[Any]] = {"learner": learner_order, "credential": [groups.c.credential],
                                       "credit": [groups.c.credit], "completed": [groups.c.completed]}
    keys = [(key, query.descending) for key in sort_keys[query.sort]]
    keys += [(key, False) for key in [*learner_order, groups.c.credential]]
    matching = func.count().over() if needle else cast(null(), Integer)  # typed: a UNION on PostgreSQL
    page = (
        select(literal(0).label("part"), groups.c.credential, groups.c.unit, groups.c.completed,
               groups.c.category, groups.c.credit, models.Learner.lms_user_id, models.Learner.name,
               matching.label("learners"), *[key.label(f"k{n}") for n, (key, _) in enumerate(keys)])
        .join(models.Learner, models.Learner.id == groups.c.learner_id)
        .where(_matching(needle, names, groups.c.credential) if needle else true())
        .order_by(*[key.desc() if descending else key.asc() for key, descending in keys])
    )
    if query.per_page:
        page = page.limit(query.per_page).offset((query.page - 1) * query.per_page)
    paged = page.subquery("paged")
    totals = select(literal(1), groups.c.credential, groups.c.unit, null(), null(), func.sum(groups.c.credit),
                    null(), null(), func.count(), *[null() for _ in keys]
                    ).group_by(groups.c.credential, groups.c.unit)
    both = union_all(select(paged), totals).subquery("both")
    ordered = [both.c[f"k{n}"].desc() if descending else both.c[f"k{n}"].asc()
               for n, (_, descending) in enumerate(keys)]
    result = list(session.execute(select(both).order_by(both.c.part, *ordered)))
    rows = [r for r in result if r.part == 0]
    roster.totals = sorted(
        (CredentialTotal(t.credential, names.get(t.credential, t.credential), t.unit, t.learners, read(t.credit))
         for t in result if t.part == 1), key=lambda total: (total.credential, total.unit))
    if not needle:
        roster.matching = sum(total.learners for total in roster.totals)
    else:
        roster.matching = rows[0].learners if rows else _count_beyond_the_last_page(session, page, query)
    roster.rows = [{
        "learner": g.lms_user_id, "learner_name": g.name or "", "credential": g.credential,
        "credential_name": names.get(g.credential, g.credential),
        "amount": read(g.credit), "unit": g.unit,
        "category": g.category or "", "completed_at": g.completed.date().isoformat(),
    } for g in rows]
    return roster


def _count_beyond_the_last_page(session: Session, page: Any, query: RosterQuery) -> int:
    """A page past the end has no row to carry the count: count without the limit."""
    if query.page <= 1 or not query.per_page:
        return 0
    every = page.limit(None).offset(None).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(every)) or 0


def course_rows(session: Session, *, identity_id: int | None, course_id: str | None,
                query: str = "", names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every row matching ``query`` (the CSV), in the page's default order."""
    return course_roster(session, identity_id=identity_id, course_id=course_id,
                         query=RosterQuery(q=query, per_page=None), names=names).rows


def render_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(row[k]) for k in CSV_COLUMNS})  # no spreadsheet formulas
    return out.getvalue()
