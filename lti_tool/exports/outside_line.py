"""Credit the learner earned outside the LMS, as a statement lists it: the learner's own claim,
self-reported or verified by an administrator, never one of the tool's (it has no claim key, no
ledger entry and is never delivered to a body by an exporter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lti_tool.states import OutsideStatus


@dataclass(frozen=True)
class OutsideLine:
    outside_id: int
    on: date
    title: str
    provider: str
    minutes: int
    amount: Decimal
    unit: str
    category: str | None
    index_number: str | None
    status: OutsideStatus
    """``self-reported`` or ``verified``; rejected outside credit counts for nothing and is not listed."""

    @property
    def marked(self) -> str:
        """How the statement marks it: whose claim it is and whether anyone checked it."""
        if self.status == OutsideStatus.VERIFIED:
            return "outside credit, verified by an administrator"
        return "outside credit, self-reported"
