"""What the learner page shows: credit by credential, progress toward renewal (a bar per requirement),
and the credentials held with their member or licence numbers and the learner's consent to report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook, UnknownCredential
from lti_tool.credits.rounding import normalized
from lti_tool.services import learners
from lti_tool.services.awards import StandingAward, standing_awards
from lti_tool.services.claim_readiness import consented, missing_given


@dataclass(frozen=True)
class Bar:
    """One requirement of a renewal cycle. A ``minimum`` fills toward what is due; a ``cap`` shows
    how much of its room is used, and what was earned beyond it and does not count."""

    label: str
    earned: Decimal
    required: Decimal
    kind: str = "minimum"
    met: bool = False
    not_counted: Decimal = Decimal(0)

    @property
    def percent(self) -> int:
        if self.required <= 0:
            return 100
        return int(min(Decimal(100), self.earned * 100 / self.required))

    def text(self, unit: str) -> str:
        earned, required = normalized(self.earned), normalized(self.required)
        if self.kind == "cap":
            line = f"{earned} of at most {required} {unit} count"
            if self.not_counted > 0:
                line += f"; {normalized(self.not_counted)} {unit} beyond the cap do not count"
            return line
        return f"{earned} of {required} {unit}" + (" (met)" if self.met else "")


@dataclass(frozen=True)
class Renewal:
    credential: str
    title: str
    unit: str
    met: bool
    cycle: str | None
    """``2026-01-01 to 2027-12-31``, or ``None`` for a credential without a renewal cycle."""
    minimums: list[Bar] = field(default_factory=list)
    caps: list[Bar] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    earned: Decimal = Decimal(0)
    cycle_start: date | None = None
    """The current cycle's first day (its audit packet's ``?cycle=``), ``None`` without a cycle."""
    cycle_end: date | None = None


@dataclass(frozen=True)
class Held:
    """A credential row of the page: the number on file, consent to report, what is still missing."""

    credential: str
    title: str
    body: str
    held: bool
    number: str | None
    certified_on: date | None
    consent: bool
    missing: list[str]


class Certificate(NamedTuple):
    """A row of a card's certificates: an award, named by its course's title, ready to print (the
    page lists hundreds, so the template reads plain attributes and looks nothing up)."""

    award_id: int
    course_title: str
    """The course mapping's title, else ``Course <id>``."""
    completed_on: str
    amount: Decimal
    unit: str


@dataclass(frozen=True)
class Card:
    """One credential on the learner's page: what is held, where the cycle stands, what is still
    needed and the certificates. Its template (``lti_learner_card.html``) is the place for more of a
    credential's facts."""

    held: Held
    renewal: Renewal | None
    certificates: list[Certificate]
    totals: list[tuple[Decimal, str]]
    """Standing credit per unit (one unit per credential in practice)."""
    days_left: int | None

    @property
    def credential(self) -> str:
        return self.held.credential


@dataclass
class LearnerPage:
    awards: list[StandingAward] = field(default_factory=list)
    totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    credentials: list[Held] = field(default_factory=list)
    progress: list[Renewal] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    """Course id -> the title its mapping gives."""
    addable: list[tuple[str, str, str]] = field(default_factory=list)
    """(credential id, title, certifying body) of credentials the learner may add."""
    cards: list[Card] = field(default_factory=list)
    """A card per credential held or credited, in the order of ``credentials``."""
    credential_titles: dict[str, str] = field(default_factory=dict)
    """Credential id -> its name, as a learner knows it."""
    results: list[api.Progress] = field(default_factory=list)
    """The plugins' progress behind ``progress``: the renewal partials reuse it (measured once a view)."""


def learner_page(
    session: Session, rulebook: Rulebook, *, identity_id: int | None, user: str, on: date,
    requires: Callable[[str], Iterable[str]] | None = None, zone: tzinfo = UTC,
) -> LearnerPage:
    """``requires(credential)`` says what claims for a credential need (``number``, ``consent``)."""
    page = LearnerPage(credential_titles={r.credential: r.title for r in rulebook})
    if identity_id is None:
        return page
    page.awards = standing_awards(session, identity_id=identity_id, user=user)
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for award in page.awards:
        totals[(award.credential, award.unit)] += award.amount
    page.totals = {key: normalized(value) for key, value in sorted(totals.items())}
    courses = {a.course for a in page.awards}
    if courses:
        mapping = models.CourseMapping
        page.titles = {course: title for course, title in session.execute(
            select(mapping.course_id, mapping.title).where(
                mapping.source_id == identity_id, mapping.course_id.in_(courses))) if title}
    key = learners.LearnerKey(identity_id, user)
    learner = learners.find_learner(session, key)
    if learner is None:
        return page
    holdings = {h.credential: h for h in session.scalars(select(models.LearnerCredential).where(
        models.LearnerCredential.learner_id == learner.id))}
    consents = consented(session, learner.id)
    for credential in sorted(set(holdings) | {a.credential for a in page.awards}):
        held = holdings.get(credential)
        rule = _rule(rulebook, credential)
        number = held.number if held else None
        page.credentials.append(Held(
            credential=credential, title=rule.title if rule else credential,
            body=rule.body if rule else credential, held=held is not None,
            number=number, certified_on=held.certified_on if held else None, consent=credential in consents,
            missing=missing_given(requires(credential) if requires else (), number=number,
                                  consent=credential in consents),
        ))
    page.addable = [(r.credential, r.title, r.body) for r in rulebook if r.credential not in holdings]
    if holdings:
        page.results = learners.progress(session, rulebook, key=key, on=on, zone=zone)
        for result in page.results:
            page.progress.append(describe_progress(result, _rule(rulebook, result.credential)))
    certificates: dict[str, list[Certificate]] = defaultdict(list)
    for award in page.awards:
        certificates[award.credential].append(Certificate(
            award.id, page.titles.get(award.course) or f"Course {award.course}", award.completed_on, award.amount,
            award.unit))
    page.cards = [_card(page, held, certificates[held.credential], on) for held in page.credentials]
    return page


def _card(page: LearnerPage, held: Held, certificates: list[Certificate], on: date) -> Card:
    renewal = next((r for r in page.progress if r.credential == held.credential), None)
    return Card(
        held=held, renewal=renewal, certificates=certificates,
        totals=[(amount, unit) for (credential, unit), amount in page.totals.items() if credential == held.credential],
        days_left=(renewal.cycle_end - on).days if renewal and renewal.cycle_end else None,
    )


def _rule(rulebook: Rulebook, credential: str) -> api.CreditRule | None:
    try:
        return rulebook.get(credential)
    except UnknownCredential:
        return None


def describe_progress(result: api.Progress, rule: api.CreditRule | None = None) -> Renewal:
    """The page's view of a plugin's :class:`~lti_tool.credits.api.Progress`: a bar per minimum
    (the total first, as the plugin orders them), the caps apart, and the lines of what is missing."""
    bars = [Bar(r.label, r.earned, r.required, r.kind, r.met, r.not_counted) for r in result.requirements]
    cycle = None
    if result.cycle_start is not None and result.cycle_end is not None:
        cycle = f"{result.cycle_start.isoformat()} to {result.cycle_end.isoformat()}"
    notes = [result.note] if result.note else []
    if result.prorated:
        notes.append("The requirements are prorated: you were certified during this cycle.")
    return Renewal(
        credential=result.credential, title=rule.title if rule else result.credential, unit=result.unit,
        met=result.met, cycle=cycle, minimums=[b for b in bars if b.kind != "cap"],
        caps=[b for b in bars if b.kind == "cap"], missing=list(result.missing), notes=notes,
        earned=normalized(result.earned), cycle_start=result.cycle_start if cycle else None,
        cycle_end=result.cycle_end if cycle else None,
    )
