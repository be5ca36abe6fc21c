"""Quantities: integer thousandths (``*_milli``) inside, decimal strings at the edges, as for
money. Three places cover grams of weighed goods and every count."""

from __future__ import annotations

from decimal import Decimal


def to_milli(text: str) -> int:
    """A decimal quantity string (the contract allows at most three places) in thousandths."""
    return int(Decimal(text).scaleb(3).to_integral_exact())


def format_milli(value: int) -> str:
    """Thousandths as the shortest decimal string: 2000 -> "2", 355 -> "0.355"."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 1000)
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac:03d}".rstrip("0")
