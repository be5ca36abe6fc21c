"""Moving weighted-average cost per store and product, exact in minor units. Pure.

A position is the quantity on hand (thousandths) and the inventory value (minor units) the
books hold for it; the GL inventory account of a store is, to the cent, the sum of its
positions' values. Goods out take a share of the value proportional to the quantity
(``value × q / qty``, rounded half to even), so selling the last unit takes the last cent and
a position at zero quantity is always at zero value. Goods in add their value.

Stock can go below zero (an offline store sells what head office has not seen arrive). Units
sold from a negative position are costed at the last average unit cost, or at the product's
standard cost when the store never had it (reported, so finance can look). When goods arrive
against a negative position, the units already sold are re-costed at the arriving cost and
the difference is a cost variance posted to COGS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple


def share(value: int, part: int, whole: int) -> int:
    """``value × part / whole`` in whole minor units, rounded half to even (exact integer
    arithmetic: the same as ``round(Fraction(value * part, whole))``, ten times faster)."""
    numerator = value * part
    if whole < 0:
        numerator, whole = -numerator, -whole
    quotient, remainder = divmod(numerator, whole)
    twice = 2 * remainder
    if twice > whole or (twice == whole and quotient % 2):
        quotient += 1
    return quotient


@dataclass(slots=True)
class Position:
    qty_milli: int = 0
    value_minor: int = 0
    # The average cost per unit when the position last had stock (kept for when it has none;
    # while it has stock the average is value / quantity); None: never known.
    unit_cost_minor: int | None = None


class Taken(NamedTuple):  # named tuples: one is made per line of every sale
    cost_minor: int
    standard_cost_used: bool = False  # no known cost: the product's standard cost (or 0)


_made = tuple.__new__  # Taken((cost, False)) without the named tuple's Python-level __new__


class Received(NamedTuple):
    variance_minor: int = 0  # re-costing of units sold while the position was negative


@dataclass
class CostBook:
    """The positions a batch touches, loaded before and saved after it."""

    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    standard_costs: Mapping[str, int | None] = field(default_factory=dict)
    touched: set[tuple[str, str]] = field(default_factory=set)

    def position(self, store_id: str, sku: str) -> Position:
        key = (store_id, sku)
        self.touched.add(key)
        if key not in self.positions:
            self.positions[key] = Position()
        return self.positions[key]

    def unit_cost(self, store_id: str, sku: str) -> tuple[int, bool]:
        """The cost per unit to use when no stock value can be drawn on, and whether it is
        the standard cost for want of a known one."""
        pos = self.position(store_id, sku)
        if pos.qty_milli > 0:
            return share(pos.value_minor, 1000, pos.qty_milli), False
        if pos.unit_cost_minor is not None:
            return pos.unit_cost_minor, False
        return self.standard_costs.get(sku) or 0, True

    def take(self, store_id: str, sku: str, qty_milli: int) -> Taken:
        """Goods out (sold, shipped, written off): their cost, taken from the position."""
        if qty_milli <= 0:
            raise ValueError("take a positive quantity")
        key = (store_id, sku)
        pos = self.positions.get(key)
        if pos is not None and qty_milli <= pos.qty_milli:  # the common case: stock on hand
            self.touched.add(key)
            cost = share(pos.value_minor, qty_milli, pos.qty_milli)
            if qty_milli == pos.qty_milli:  # the last unit: remember what they cost
                pos.unit_cost_minor = share(pos.value_minor, 1000, pos.qty_milli)
            pos.qty_milli -= qty_milli
            pos.value_minor -= cost
            return _made(Taken, (cost, False))
        pos = self.position(store_id, sku)
        if 0 < qty_milli <= pos.qty_milli:
            cost = share(pos.value_minor, qty_milli, pos.qty_milli)
            standard = False
        else:
            from_stock = max(pos.qty_milli, 0)
            unit, standard = self.unit_cost(store_id, sku)
            cost = (pos.value_minor if from_stock else 0) + \
                share(unit, qty_milli - from_stock, 1000)
            standard = standard and from_stock == 0
            if pos.unit_cost_minor is None and not standard:
                pos.unit_cost_minor = unit
        if pos.qty_milli > 0:
            pos.unit_cost_minor = share(pos.value_minor, 1000, pos.qty_milli)
        pos.qty_milli -= qty_milli
        pos.value_minor -= cost
        return Taken(cost, standard)

    def put(self, store_id: str, sku: str, qty_milli: int, value_minor: int) -> Received:
        """Goods in at ``value_minor`` for ``qty_milli``."""
        pos = self.position(store_id, sku)
        if qty_milli <= 0:
            raise ValueError("put a positive quantity")
        variance = 0
        if pos.qty_milli < 0:
            covered = min(qty_milli, -pos.qty_milli)
            booked = share(pos.value_minor, covered, pos.qty_milli)  # what they were costed at
            variance = share(value_minor, covered, qty_milli) - booked
        pos.qty_milli += qty_milli
        pos.value_minor += value_minor - variance
        if pos.qty_milli > 0:
            pos.unit_cost_minor = share(pos.value_minor, 1000, pos.qty_milli)
        elif pos.qty_milli == 0:
            variance += pos.value_minor  # nothing left: nothing may stay valued
            pos.value_minor = 0
        return Received(variance)
