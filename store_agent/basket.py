"""Pricing a basket: line amounts, discounts, tax per rate, totals, tenders and change.
Pure, no I/O.

The rule (also in ``docs/pos-api.md``):

1. A line's gross amount is ``quantity x unit price`` (the override price if a manager set
   one), rounded half-up to the minor unit.
2. A line discount is a percentage of the gross (rounded half-up) or an amount (at most the
   gross).
3. A basket discount (percentage of, or amount off, the lines' net sum) is spread over the
   lines in proportion to their net amounts, by the largest-remainder method, so the line
   amounts always add up exactly and each rate's tax is computed on what was really charged.
4. Tax is computed once per rate on the sum of the net line amounts at that rate, rounded
   half-up: ``sum x rate / 100`` when prices exclude tax (added on top), and
   ``sum x rate / (100 + rate)`` when they include it (contained in the total).
5. Change is given only from cash: non-cash tenders may not exceed what is due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sync.money import to_minor

CASH = "cash"
TENDER_TYPES = frozenset({"cash", "card", "gift_card"})
PERCENT = "percent"
AMOUNT = "amount"


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price_minor: int
    tax_rate: Decimal  # percent, e.g. Decimal("8.25")


@dataclass(frozen=True, slots=True)
class Discount:
    """A percentage (``value`` in percent) or an amount (``value`` in minor units) off."""

    kind: str
    value: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class BasketLine:
    product: Product
    quantity: Decimal
    discount: Discount | None = None
    override_price_minor: int | None = None
    override_reason: str = ""
    price_source: str = "catalog"  # or "label" (a scale label's price), "override" (manager)


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    name: str
    quantity: Decimal
    unit_price_minor: int
    amount_minor: int
    tax_rate: Decimal
    gross_minor: int = 0
    discount_minor: int = 0
    list_price_minor: int = 0


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
    discount_minor: int = 0
    prices_include_tax: bool = False
    largest_discount_percent: Decimal = field(default=Decimal(0))


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


class DiscountTooLarge(ValueError):
    def __init__(self, where: str, discount_minor: int, base_minor: int) -> None:
        self.where = where
        super().__init__(f"{where}: discount {discount_minor} is more than the {base_minor} "
                         "it applies to")


def price_basket(lines: tuple[BasketLine, ...], basket_discount: Discount | None = None,
                 prices_include_tax: bool = False) -> Totals:
    """Price every line and total the basket by the rule in the module docstring."""
    gross = [to_minor(line.quantity * _unit_price(line), 0) for line in lines]
    line_discounts = [
        _discount_amount(line.discount, g, f"lines[{i}].discount") if line.discount else 0
        for i, (line, g) in enumerate(zip(lines, gross, strict=True))
    ]
    net = [g - d for g, d in zip(gross, line_discounts, strict=True)]
    largest = max((_percent_of(d, g) for d, g in zip(line_discounts, gross, strict=True)),
                  default=Decimal(0))
    if basket_discount is not None:
        base = sum(net)
        off = _discount_amount(basket_discount, base, "basket_discount")
        largest = max(largest, _percent_of(off, base))
        shares = allocate(off, net)
        line_discounts = [d + s for d, s in zip(line_discounts, shares, strict=True)]
        net = [n - s for n, s in zip(net, shares, strict=True)]
    priced = tuple(
        PricedLine(sku=line.product.sku, name=line.product.name, quantity=line.quantity,
                   unit_price_minor=_unit_price(line), amount_minor=n,
                   tax_rate=line.product.tax_rate, gross_minor=g, discount_minor=d,
                   list_price_minor=line.product.price_minor)
        for line, g, d, n in zip(lines, gross, line_discounts, net, strict=True)
    )
    taxable: dict[Decimal, int] = {}
    for line in priced:
        taxable[line.tax_rate] = taxable.get(line.tax_rate, 0) + line.amount_minor
    taxes = tuple(_tax_line(rate, amount, prices_include_tax)
                  for rate, amount in sorted(taxable.items()))
    subtotal = sum(gross)
    discount = sum(line_discounts)
    tax = sum(t.tax_minor for t in taxes)
    total = subtotal - discount + (0 if prices_include_tax else tax)
    return Totals(lines=priced, taxes=taxes, subtotal_minor=subtotal, tax_minor=tax,
                  total_minor=total, discount_minor=discount,
                  prices_include_tax=prices_include_tax, largest_discount_percent=largest)


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` over ``weights`` proportionally; the parts add up to ``amount``
    exactly (largest remainder first, earlier lines winning ties)."""
    total = sum(weights)
    if amount == 0 or total == 0:
        return [0] * len(weights)
    floors = [amount * w // total for w in weights]
    remainders = [(amount * w % total, -i) for i, w in enumerate(weights)]
    for _, neg_index in sorted(remainders, reverse=True)[: amount - sum(floors)]:
        floors[-neg_index] += 1
    return floors


def settle(total_minor: int, tenders: tuple[Tender, ...]) -> Settlement:
    """Check the tenders cover the total and work out the change (from cash only)."""
    tendered = sum(t.amount_minor for t in tenders)
    if tendered < total_minor:
        raise TendersShort(total_minor, tendered)
    non_cash = sum(t.amount_minor for t in tenders if t.type != CASH)
    if non_cash > total_minor:
        raise NonCashOverpayment(total_minor, non_cash)
    return Settlement(tendered_minor=tendered, change_due_minor=tendered - total_minor)


def _unit_price(line: BasketLine) -> int:
    if line.override_price_minor is not None:
        return line.override_price_minor
    return line.product.price_minor


def _discount_amount(discount: Discount, base: int, where: str) -> int:
    if discount.kind == PERCENT:
        off = to_minor(Decimal(base) * discount.value / Decimal(100), 0)
    else:
        off = int(discount.value)
    if off > base:
        raise DiscountTooLarge(where, off, base)
    return off


def _percent_of(part: int, whole: int) -> Decimal:
    return Decimal(0) if whole <= 0 else Decimal(part) * 100 / Decimal(whole)


def _tax_line(rate: Decimal, amount: int, inclusive: bool) -> TaxLine:
    if inclusive:
        tax = to_minor(Decimal(amount) * rate / (Decimal(100) + rate), 0)
        return TaxLine(rate=rate, taxable_minor=amount - tax, tax_minor=tax)
    return TaxLine(rate=rate, taxable_minor=amount,
                   tax_minor=to_minor(Decimal(amount) * rate / Decimal(100), 0))
