"""Requirements that are not credit: declared by plugins, confirmed by learners, and needed to be
ready to renew."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lti_tool.credits.api import Confirmation, EarnedCredit, Holding, Progress
from lti_tool.credits.registry import load_rulebook

RULES = load_rulebook()
NCCT = Holding("ncct-ncma", certified_on=date(2025, 1, 1))


def fourteen_hours() -> list[EarnedCredit]:
    return [EarnedCredit("ncct-ncma", Decimal(14), date(2025, 3, 1), "hipaa")]


def item(progress: Progress, item_id: str) -> tuple[object, ...]:
    [line] = [i for i in progress.items if i.id == item_id]
    return line.confirmed_on, line.met


def test_the_bodies_with_fees_memberships_and_volunteer_hours_declare_them() -> None:
    declared = {rule.credential: [i.id for i in rule.renewal_items()] for rule in RULES}
    assert declared["acmss-cmss"] == ["annual-fee"]
    assert declared["ncct-ncma"] == ["annual-fee"]
    assert declared["nha-ccma"] == ["renewal-fee"]
    assert declared["acmpe-cmpe"] == ["mgma-membership"]
    assert declared["acmpe-facmpe"] == ["mgma-membership", "volunteer-service"]
    assert declared["pahcom-cmm"] == ["pahcom-membership"]
    assert declared["aapc-cppm"] == ["aapc-membership"]
    assert declared["aama-cma"] == []


def test_credit_met_but_the_fee_unconfirmed_is_not_ready() -> None:
    progress = RULES.get("ncct-ncma").progress(fourteen_hours(), NCCT, date(2025, 6, 1))
    assert progress.met and not progress.ready
    assert item(progress, "annual-fee") == (None, False)
    assert "confirm the annual NCCT fee by 2025-12-31" in progress.missing


def test_credit_met_and_the_fee_confirmed_is_ready() -> None:
    paid = [Confirmation("ncct-ncma", "annual-fee", date(2025, 2, 10))]
    progress = RULES.get("ncct-ncma").progress(fourteen_hours(), NCCT, date(2025, 6, 1), paid)
    assert progress.ready
    assert item(progress, "annual-fee") == (date(2025, 2, 10), True)


def test_a_fee_confirmed_in_the_last_cycle_is_not_confirmed_in_this_one() -> None:
    paid = [Confirmation("ncct-ncma", "annual-fee", date(2024, 12, 20))]
    progress = RULES.get("ncct-ncma").progress(fourteen_hours(), NCCT, date(2025, 6, 1), paid)
    assert item(progress, "annual-fee") == (None, False)


def test_a_confirmation_dated_after_the_day_measured_does_not_count_yet() -> None:
    paid = [Confirmation("ncct-ncma", "annual-fee", date(2025, 7, 1))]
    progress = RULES.get("ncct-ncma").progress(fourteen_hours(), NCCT, date(2025, 6, 1), paid)
    assert not progress.ready


def test_all_items_confirmed_but_credit_short_is_not_ready() -> None:
    paid = [Confirmation("ncct-ncma", "annual-fee", date(2025, 2, 10))]
    progress = RULES.get("ncct-ncma").progress([], NCCT, date(2025, 6, 1), paid)
    assert item(progress, "annual-fee")[1] and not progress.ready


def test_facmpe_volunteer_hours_add_up_to_six_in_the_cycle() -> None:
    holding = Holding("acmpe-facmpe", certified_on=date(2020, 1, 1))
    rule = RULES.get("acmpe-facmpe")
    hours = [Confirmation("acmpe-facmpe", "volunteer-service", date(2025, 4, 1), Decimal(4)),
             Confirmation("acmpe-facmpe", "volunteer-service", date(2026, 4, 1), Decimal("1.5"))]
    short = rule.progress([], holding, date(2026, 6, 1), hours)
    [line] = [i for i in short.items if i.id == "volunteer-service"]
    assert (line.met, line.amount, line.confirmed_amount) == (False, Decimal(6), Decimal("5.5"))
    enough = rule.progress([], holding, date(2026, 6, 1),
                           [*hours, Confirmation("acmpe-facmpe", "volunteer-service", date(2026, 5, 1), Decimal("0.5"))])
    assert item(enough, "volunteer-service") == (date(2026, 5, 1), True)


def test_facmpe_fifty_hours_membership_but_no_volunteer_service_is_not_ready() -> None:
    holding = Holding("acmpe-facmpe", certified_on=date(2020, 1, 1))
    earned = [EarnedCredit("acmpe-facmpe", Decimal(50), date(2025, 3, 1), "c", tags=frozenset({"mgma", "mgma-live"}))]
    member = [Confirmation("acmpe-facmpe", "mgma-membership", date(2025, 1, 5))]
    progress = RULES.get("acmpe-facmpe").progress(earned, holding, date(2026, 6, 1), member)
    assert progress.met and not progress.ready


def test_without_a_known_cycle_no_item_is_met() -> None:
    paid = [Confirmation("ncct-ncma", "annual-fee", date(2025, 2, 10))]
    progress = RULES.get("ncct-ncma").progress([], Holding("ncct-ncma"), date(2025, 6, 1), paid)
    assert item(progress, "annual-fee") == (date(2025, 2, 10), False)


def test_a_credential_without_items_or_cycle_is_ready_when_met() -> None:
    assert RULES.get("iacet-ceu").progress([], Holding("iacet-ceu"), date(2025, 6, 1)).ready
