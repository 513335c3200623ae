"""Requirements that are not credit: fees, memberships, volunteer hours (a pure measure).

A learner confirms each item with the date; an item counts for the cycle its confirmation falls
in (up to the day measured). An item with an amount (FACMPE's six hours of volunteer service)
is met when the amounts confirmed in the cycle add up to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from lti_tool.credits.facts import Confirmation, Cycle, ItemProgress, RenewalItem
from lti_tool.credits.rounding import normalized


def measure_items(items: Sequence[RenewalItem], confirmations: Sequence[Confirmation], cycle: Cycle | None,
                  on: date) -> tuple[ItemProgress, ...]:
    """Each item's state in ``cycle`` on ``on``; with no known cycle nothing is met."""
    lines = []
    for item in items:
        mine = sorted(
            (c for c in confirmations if c.item == item.id and c.confirmed_on <= on
             and (cycle is None or cycle.start <= c.confirmed_on <= cycle.end)),
            key=lambda c: c.confirmed_on,
        )
        latest = mine[-1].confirmed_on if mine else None
        if item.amount is None:
            lines.append(ItemProgress(item.id, item.title, item.kind, latest, cycle is not None and bool(mine)))
            continue
        confirmed = normalized(sum((c.amount or Decimal(0) for c in mine), Decimal(0)))
        lines.append(ItemProgress(item.id, item.title, item.kind, latest,
                                  cycle is not None and confirmed >= item.amount,
                                  amount=normalized(item.amount), confirmed_amount=confirmed))
    return tuple(lines)
