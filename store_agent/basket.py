"""Pricing a basket: line amounts, tax per rate, totals, tenders and change. Pure, no I/O.

Rounding rule (written down in ``docs/pos-api.md``): prices are tax-exclusive;
a line amount is ``quantity x unit price`` rounded half-up to the minor unit; tax is
computed once per rate on the sum of the line amounts at that rate, rounded half-up; the
total is subtotal plus tax. Change is given only from cash: non-cash tenders may not exceed
what is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sync.money import to_minor

CASH = "cash"
TENDER_TYPES = frozenset({"cash", "card", "gift_card"})


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price_minor: int
    tax_rate: Decimal  # percent, e.g. Decimal("8.25")


@dataclass(frozen=True, slots=True)
class BasketLine:
    product: Product
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    name: str
    quantity: Decimal
    unit_price_minor: int
    amount_minor: int
    tax_rate: Decimal


@dataclass(frozen=True, slots=True)
class TaxLine:
    rate: Decimal
    taxable_minor: int
    tax_minor: int


@dataclass(frozen=True, slots=True)
class Totals:
    lines: tuple[PricedLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal_minor: int
    tax_minor: int
    total_minor: int


@dataclass(frozen=True, slots=True)
class Tender:
    type: str
    amount_minor: int
    reference: str = ""
    approval_code: str = ""


@dataclass(frozen=True, slots=True)
class Settlement:
    tendered_minor: int
    change_due_minor: int


class TendersShort(ValueError):
    def __init__(self, total_minor: int, tendered_minor: int) -> None:
        self.total_minor = total_minor
        self.tendered_minor = tendered_minor
        super().__init__(f"tendered {tendered_minor} < total {total_minor}")


class NonCashOverpayment(ValueError):
    def __init__(self, total_minor: int, non_cash_minor: int) -> None:
        self.total_minor = total_minor
        self.non_cash_minor = non_cash_minor
        super().__init__(f"non-cash tenders {non_cash_minor} exceed total {total_minor}")


def price_basket(lines: tuple[BasketLine, ...]) -> Totals:
    """Price every line and total the basket by the documented rounding rule."""
    priced = tuple(
        PricedLine(
            sku=line.product.sku, name=line.product.name, quantity=line.quantity,
            unit_price_minor=line.product.price_minor,
            amount_minor=to_minor(line.quantity * line.product.price_minor, 0),
            tax_rate=line.product.tax_rate,
        )
        for line in lines
    )
    taxable: dict[Decimal, int] = {}
    for line in priced:
        taxable[line.tax_rate] = taxable.get(line.tax_rate, 0) + line.amount_minor
    taxes = tuple(
        TaxLine(rate=rate, taxable_minor=amount,
                tax_minor=to_minor(Decimal(amount) * rate / Decimal(100), 0))
        for rate, amount in sorted(taxable.items())
    )
    subtotal = sum(line.amount_minor for line in priced)
    tax = sum(t.tax_minor for t in taxes)
    return Totals(lines=priced, taxes=taxes, subtotal_minor=subtotal, tax_minor=tax,
                  total_minor=subtotal + tax)


def settle(total_minor: int, tenders: tuple[Tender, ...]) -> Settlement:
    """Check the tenders cover the total and work out the change (from cash only)."""
    tendered = sum(t.amount_minor for t in tenders)
    if tendered < total_minor:
        raise TendersShort(total_minor, tendered)
    non_cash = sum(t.amount_minor for t in tenders if t.type != CASH)
    if non_cash > total_minor:
        raise NonCashOverpayment(total_minor, non_cash)
    return Settlement(tendered_minor=tendered, change_due_minor=tendered - total_minor)
