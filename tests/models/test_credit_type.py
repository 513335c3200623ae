"""Credit amounts are exact decimals on every database, in their shortest form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lti_tool.credits.rounding import normalized


@pytest.mark.parametrize("raw, shown", [("1.5000", "1.5"), ("10.00", "10"), ("0.25", "0.25"),
                                         ("-0.2", "-0.2"), ("50", "50"), ("0", "0")])
def test_canonical_form_is_exact_and_never_exponential(raw: str, shown: str) -> None:
    assert str(normalized(Decimal(raw))) == shown
