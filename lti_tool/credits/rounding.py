"""Exact decimal rounding to a step, the way the bodies' rules say it ("steps of 0.25, rounded down").

``floor(hours * 4) / 4`` for a step of 0.25; everything stays :class:`~decimal.Decimal`.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

ROUNDING_MODES = ("down", "half_up", "up")
_MODES = {"down": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "up": ROUND_CEILING}


def to_step(value: Decimal, step: Decimal, mode: str = "down") -> Decimal:
    """``value`` as a whole number of ``step``\\ s, rounded by ``mode`` (down, half_up or up)."""
    if step <= 0:
        raise ValueError("a rounding step must be positive")
    steps = (value / step).quantize(Decimal(1), rounding=_MODES[mode])
    return normalized(steps * step)


def normalized(value: Decimal) -> Decimal:
    """The plain form of an amount: 1.50 -> 1.5, 2.00 -> 2, never an exponent (1E+1 -> 10)."""
    if value == 0:
        return Decimal(0)
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def hours(minutes: int, minutes_per_hour: int = 60) -> Decimal:
    """Minutes as exact hours."""
    return Decimal(minutes) / Decimal(minutes_per_hour)
