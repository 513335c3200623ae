"""What the learner page shows of renewal beyond course credit: each held credential's items that
are not credit (fees, memberships, volunteer hours), whether the learner is ready to renew, and
the credit they recorded from outside the LMS with its status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from decimal import Decimal

from sqlalchemy.orm import Session

from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook, UnknownCredential
from lti_tool.services import learners, outside_credit


@dataclass(frozen=True)
class Outside:
    title: str
    provider: str
    on: date
    amount: Decimal
    unit: str
    status: str
    status_reason: str | None


@dataclass(frozen=True)
class CredentialRenewal:
    credential: str
    title: str
    unit: str
    items: tuple[api.ItemProgress, ...]
    ready: bool
    self_reported: Decimal
    cycle_end: date | None
    outside: list[Outside] = field(default_factory=list)


OUTSIDE_FACTS: dict[str, tuple[str, ...]] = {
    "distance": ("pilot_minutes", "offers_interaction", "structured"),
    "presentation": ("repeat", "own_minutes"),
    "poster": ("repeat", "staffed_minutes"),
}
"""The outside-credit form's facts that only one activity type uses (as on the mapping page, and
as ``learners outside add`` takes them): distance learning's pilot study and criteria, a
presentation's own portion, a poster's staffed minutes, and whether either was given before."""


@dataclass
class RenewalPage:
    credentials: list[CredentialRenewal] = field(default_factory=list)
    activity_types: tuple[str, ...] = ()
    today: date | None = None

    outside_facts: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(OUTSIDE_FACTS))

    @property
    def held(self) -> list[tuple[str, str]]:
        return [(c.credential, c.title) for c in self.credentials]


def renewal_page(session: Session, rulebook: Rulebook, *, identity_id: int | None, user: str, on: date,
                 zone: tzinfo = UTC, results: list[api.Progress] | None = None) -> RenewalPage:
    """``results``: the learner's progress when the caller measured it already (the learner page
    did, for its cards), else measured here."""
    page = RenewalPage(activity_types=tuple(t for t in api.ACTIVITY_TYPES if t not in api.NEVER_CREDITED),
                       today=on)
    if identity_id is None:
        return page
    key = learners.LearnerKey(identity_id, user)
    learner = learners.find_learner(session, key)
    if learner is None:
        return page
    recorded = outside_credit.outside_credits(session, learner.id)
    if results is None:
        results = learners.progress(session, rulebook, key=key, on=on, zone=zone)
    for progress in results:
        try:
            title = rulebook.get(progress.credential).title
        except UnknownCredential:
            title = progress.credential
        page.credentials.append(CredentialRenewal(
            credential=progress.credential, title=title, unit=progress.unit, items=progress.items,
            ready=progress.ready, self_reported=progress.self_reported, cycle_end=progress.cycle_end,
            outside=[Outside(r.title, r.provider, r.activity_on, r.amount, r.unit, r.status, r.status_reason)
                     for r in recorded if r.credential == progress.credential],
        ))
    return page
