"""The pricing rule of docs/pos-api.md, case by case: discounts, their spread over rates,
tax-inclusive prices, and scale labels. Pure functions, no I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store_agent.barcodes import InvalidBarcode, interpret, variable_measure_label
from store_agent.basket import (
    AMOUNT,
    PERCENT,
    BasketLine,
    Discount,
    DiscountTooLarge,
    Product,
    allocate,
    price_basket,
)

MILK = Product("1001", "Milk", 129, Decimal("7"))
WINE = Product("3001", "Wine", 899, Decimal("19"))
SOAP = Product("2001", "Soap", 199, Decimal("19"))


def line(product: Product, quantity: str = "1", **kwargs: object) -> BasketLine:
    return BasketLine(product=product, quantity=Decimal(quantity), **kwargs)  # type: ignore[arg-type]


def test_percent_line_discount_rounds_half_up() -> None:
    totals = price_basket((line(WINE, "2", discount=Discount(PERCENT, Decimal("25"), "dent")),))
    # 17.98 x 25 % = 4.495 -> 4.50
    assert (totals.subtotal_minor, totals.discount_minor) == (1798, 450)
    assert totals.tax_minor == 256  # 13.48 x 19 % = 2.5612
    assert totals.total_minor == 1798 - 450 + 256
    assert totals.largest_discount_percent == Decimal(450) * 100 / 1798


def test_amount_discount_larger_than_the_line_is_refused() -> None:
    with pytest.raises(DiscountTooLarge) as caught:
        price_basket((line(MILK, discount=Discount(AMOUNT, Decimal(130), "too much")),))
    assert caught.value.where == "lines[0].discount"


def test_basket_discount_is_spread_so_each_rate_is_taxed_on_what_was_charged() -> None:
    totals = price_basket((line(Product("1002", "Bread", 249, Decimal(7)), "2"), line(SOAP)),
                          basket_discount=Discount(AMOUNT, Decimal(50), "loyalty"))
    assert [ln.amount_minor for ln in totals.lines] == [462, 185]
    assert [ln.discount_minor for ln in totals.lines] == [36, 14]
    assert [t.tax_minor for t in totals.taxes] == [32, 35]
    assert totals.total_minor == 462 + 185 + 32 + 35


def test_tax_inclusive_prices_contain_the_tax() -> None:
    totals = price_basket((line(WINE), line(MILK, "3")), prices_include_tax=True)
    assert totals.total_minor == 899 + 387
    by_rate = {t.rate: (t.taxable_minor, t.tax_minor) for t in totals.taxes}
    # 387 x 7/107 = 25.3 -> 25; 899 x 19/119 = 143.5 -> 144 (half-up)
    assert by_rate == {Decimal(7): (362, 25), Decimal(19): (755, 144)}


def test_price_override_replaces_the_unit_price_and_keeps_the_list_price() -> None:
    totals = price_basket((line(WINE, override_price_minor=500, override_reason="match"),))
    (priced,) = totals.lines
    assert (priced.unit_price_minor, priced.list_price_minor, priced.amount_minor) == \
        (500, 899, 500)


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**7), min_size=1, max_size=30))
def test_allocation_adds_up_exactly_and_stays_proportional(amount: int,
                                                           weights: list[int]) -> None:
    parts = allocate(amount, weights)
    if sum(weights) == 0:
        assert parts == [0] * len(weights)
        return
    assert sum(parts) == amount
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(amount) * weight / sum(weights)
        assert abs(Decimal(part) - exact) < 1


@given(st.lists(st.tuples(st.integers(1, 100_000), st.integers(1, 5000),
                          st.sampled_from(["0", "7", "8.875", "19"])), min_size=1, max_size=12),
       st.integers(0, 100), st.booleans())
def test_totals_always_add_up(rows: list[tuple[int, int, str]], percent: int,
                              inclusive: bool) -> None:
    lines = tuple(line(Product(f"S{i}", "x", price, Decimal(rate)), str(Decimal(qty) / 1000))
                  for i, (price, qty, rate) in enumerate(rows))
    totals = price_basket(lines, Discount(PERCENT, Decimal(percent), "p"), inclusive)
    net = sum(ln.amount_minor for ln in totals.lines)
    assert net == totals.subtotal_minor - totals.discount_minor
    assert totals.total_minor == net + (0 if inclusive else totals.tax_minor)
    for tax in totals.taxes:
        base = sum(ln.amount_minor for ln in totals.lines if ln.tax_rate == tax.rate)
        exact = Decimal(base) * tax.rate / (100 + tax.rate if inclusive else 100)
        assert abs(Decimal(tax.tax_minor) - exact) <= Decimal("0.5")


def test_scale_labels_decode_price_and_weight() -> None:
    weight = interpret(variable_measure_label("25", "12345", 1234))
    assert (weight.lookup, weight.embedded_weight_kg) == ("2512345", Decimal("1.234"))
    price = interpret(variable_measure_label("21", "00042", 349))
    assert (price.lookup, price.embedded_price_minor) == ("2100042", 349)
    assert interpret("4006381333931").lookup == "4006381333931"
    assert interpret("INTERNAL-7").lookup == "INTERNAL-7"


@pytest.mark.parametrize("code", ["4006381333932", "96385075", "036000291453"])
def test_a_wrong_check_digit_is_a_misread(code: str) -> None:
    with pytest.raises(InvalidBarcode):
        interpret(code)


def test_labels_can_only_be_built_in_range() -> None:
    with pytest.raises(ValueError):
        variable_measure_label("19", "12345", 1)
    with pytest.raises(ValueError):
        variable_measure_label("25", "1234", 1)
