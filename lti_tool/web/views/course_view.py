"""What the instructor page shows: the course's learners and the credit each earned, a row per
learner and credential, searched, sorted and paged in SQL (a course may have 10,000 learners), with
the course's totals per credential.

Amounts are summed as ``Decimal`` in Python, never by the database: SQLite keeps them as exact text,
and its ``SUM`` would be a float. Only the sort by credit orders on the database's numeric cast,
which is close enough to order by; every amount shown is exact.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, cast, exists, func, or_, select, true, tuple_
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.models.base import canonical

CSV_COLUMNS = ("learner", "learner_name", "credential", "credential_name", "amount", "unit", "category",
               "completed_at")
SORTS = ("learner", "credential", "credit", "completed")
PER_PAGE = 50


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
        """From the page's query string; an unknown sort or a bad page number falls back to the default."""
        sort = args.get("sort", "learner")
        try:
            page = max(1, int(args.get("page", "1")))
        except ValueError:
            page = 1
        return cls(q=args.get("q", "")[:200], sort=sort if sort in SORTS else "learner",
                   descending=args.get("dir") == "desc", page=page)


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


def _standing(source_id: int, course_id: str) -> Any:
    """Awards of the course that stand: not reversed in the ledger."""
    reversed_ = exists().where(models.LedgerEntry.award_id == models.Award.id,
                               models.LedgerEntry.kind == "reversal")
    return and_(models.Award.source_id == source_id, models.Award.course_id == course_id, ~reversed_)


def _matching(needle: str, names: Mapping[str, str]) -> Any:
    """Learner name or LMS id, credential id or name (names live in the rulebook, not the database)."""
    credentials = [c for c, name in names.items() if needle in c.lower() or needle in name.lower()]
    return or_(func.lower(models.Learner.name).contains(needle, autoescape=True),
               func.lower(models.Learner.lms_user_id).contains(needle, autoescape=True),
               func.lower(models.Award.credential).contains(needle, autoescape=True),
               models.Award.credential.in_(credentials))


def course_roster(session: Session, *, source_id: int | None, course_id: str | None,
                  query: RosterQuery = RosterQuery(), names: Mapping[str, str] | None = None) -> Roster:
    """One row per learner and credential (standing credit earned in this course), the page the
    query asks for, and the course's totals. ``source_id`` is the launch platform's event source.

    ``names``: credential id -> its name (CMA, CMPE …), shown and searched beside the id."""
    names = names or {}
    roster = Roster(query=query)
    if source_id is None or course_id is None:
        return roster
    source = session.get(models.Source, source_id)
    standing = _standing(source.identity_id if source else source_id, course_id)
    needle = query.q.strip().lower()
    credit = func.sum(cast(models.Award.amount, Numeric(14, 4)))
    completed = func.max(models.Award.completed_at)
    grouped = (
        select(models.Award.learner_id, models.Award.credential, models.Award.unit,
               models.Learner.lms_user_id, models.Learner.name, completed.label("completed"),
               func.min(models.Award.category).label("category"))
        .join(models.Learner, models.Learner.id == models.Award.learner_id)
        .where(standing, _matching(needle, names) if needle else true())
        .group_by(models.Award.learner_id, models.Award.credential, models.Award.unit,
                  models.Learner.lms_user_id, models.Learner.name)
    )
    roster.matching = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    learner_order: list[Any] = [func.coalesce(models.Learner.name, ""), models.Learner.lms_user_id]
    sort_keys: dict[str, list[Any]] = {"learner": learner_order, "credential": [models.Award.credential],
                                       "credit": [credit], "completed": [completed]}
    keys = sort_keys[query.sort]
    order = [k.desc() if query.descending else k.asc() for k in keys]
    page = grouped.order_by(*order, *learner_order, models.Award.credential)
    if query.per_page:
        page = page.limit(query.per_page).offset((query.page - 1) * query.per_page)
    groups = list(session.execute(page))
    amounts = _amounts(session, standing, [(g.learner_id, g.credential) for g in groups])
    roster.rows = [{
        "learner": g.lms_user_id, "learner_name": g.name or "", "credential": g.credential,
        "credential_name": names.get(g.credential, g.credential),
        "amount": canonical(amounts[(g.learner_id, g.credential, g.unit)]), "unit": g.unit,
        "category": g.category or "", "completed_at": g.completed.date().isoformat(),
    } for g in groups]
    roster.totals = _totals(session, standing, names)
    return roster


def _amounts(session: Session, standing: Any, pairs: list[tuple[int, str]]) -> dict[tuple[int, str, str], Decimal]:
    sums: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    for start in range(0, len(pairs), 500):
        chunk = pairs[start:start + 500]
        rows = session.execute(
            select(models.Award.learner_id, models.Award.credential, models.Award.unit, models.Award.amount)
            .where(standing, tuple_(models.Award.learner_id, models.Award.credential).in_(chunk)))
        for learner_id, credential, unit, amount in rows:
            sums[(learner_id, credential, unit)] += amount
    return sums


def _totals(session: Session, standing: Any, names: Mapping[str, str]) -> list[CredentialTotal]:
    learners = {credential: count for credential, count in session.execute(
        select(models.Award.credential, func.count(models.Award.learner_id.distinct()))
        .where(standing).group_by(models.Award.credential))}
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for credential, unit, amount in session.execute(
            select(models.Award.credential, models.Award.unit, models.Award.amount).where(standing)):
        sums[(credential, unit)] += amount
    return [CredentialTotal(credential, names.get(credential, credential), unit, learners.get(credential, 0),
                            canonical(amount)) for (credential, unit), amount in sorted(sums.items())]


def course_rows(session: Session, *, source_id: int | None, course_id: str | None,
                query: str = "", names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every row matching ``query`` (the CSV), in the page's default order."""
    return course_roster(session, source_id=source_id, course_id=course_id,
                         query=RosterQuery(q=query, per_page=None), names=names).rows


def render_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row[k]) for k in CSV_COLUMNS})
    return out.getvalue()


def _cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text  # no spreadsheet formulas
