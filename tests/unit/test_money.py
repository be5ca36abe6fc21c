"""Money at the edges: Decimal -> minor units rounds half-up, amounts arrive only as decimal
strings with no more places than the currency has, and formatting round-trips."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sync.errors import InvalidAmount, SyncContractError
from sync.money import CURRENCY_EXPONENTS, exponent_of, format_minor, parse_amount, to_minor


@pytest.mark.parametrize(("amount", "exponent", "minor"), [
    ("0.005", 2, 1),
    ("0.004", 2, 0),
    ("0.015", 2, 2),     # half-even would give 2 as well ...
    ("0.025", 2, 3),     # ... but here half-even gives 2: the rule is half-up
    ("2.5", 0, 3),
    ("3.5", 0, 4),
    ("-0.005", 2, -1),   # half-up rounds away from zero
    ("-2.5", 0, -3),
    ("1.0005", 3, 1001),
    ("12.34", 2, 1234),
    ("0", 2, 0),
])
def test_to_minor_rounds_half_up(amount: str, exponent: int, minor: int) -> None:
    assert to_minor(Decimal(amount), exponent) == minor


def test_to_minor_takes_an_explicit_rounding_mode() -> None:
    assert to_minor(Decimal("0.025"), 2, ROUND_HALF_EVEN) == 2
    assert to_minor(Decimal("0.025"), 2) == 3


@pytest.mark.parametrize(("text", "exponent", "minor"), [
    ("12.34", 2, 1234),
    ("12.3", 2, 1230),
    ("12", 2, 1200),
    ("-0.01", 2, -1),
    ("0.00", 2, 0),
    ("1500", 0, 1500),
    ("1.234", 3, 1234),
    (" 7.50 ", 2, 750),
])
def test_parse_amount_reads_decimal_strings(text: str, exponent: int, minor: int) -> None:
    assert parse_amount(text, exponent, field="amount") == minor


@pytest.mark.parametrize("value", [12.34, 12, True, None, Decimal("12.34"), b"12.34", ["1"]])
def test_parse_amount_refuses_anything_but_a_string(value: object) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(value, 2, field="lines[0].price")
    assert caught.value.field == "lines[0].price"
    assert str(caught.value).startswith("lines[0].price: must be a decimal string")
    assert type(value).__name__ in str(caught.value)


@pytest.mark.parametrize("text", ["", "abc", "12,34", "1.2.3", "$12", "12.34 EUR", "--1"])
def test_parse_amount_refuses_non_numbers(text: str) -> None:
    with pytest.raises(InvalidAmount, match="is not a decimal number") as caught:
        parse_amount(text, 2, field="total")
    assert caught.value.field == "total"


@pytest.mark.parametrize("text", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf"])
def test_parse_amount_refuses_non_finite_values(text: str) -> None:
    with pytest.raises(InvalidAmount, match="is not a decimal number"):
        parse_amount(text, 2, field="total")


@pytest.mark.parametrize(("text", "exponent"), [
    ("1.005", 2), ("0.001", 2), ("1.5", 0), ("100.1", 0), ("1.0001", 3), ("12.340", 2),
])
def test_parse_amount_refuses_more_places_than_the_currency_has(text: str,
                                                                exponent: int) -> None:
    with pytest.raises(InvalidAmount, match=f"more than {exponent} decimal places"):
        parse_amount(text, exponent, field="total")


def test_invalid_amount_is_a_value_error_of_the_contract() -> None:
    with pytest.raises(ValueError):
        parse_amount("x", 2, field="f")
    assert issubclass(InvalidAmount, SyncContractError)


@pytest.mark.parametrize("text", ["1_000", "\u0661\u0662", "1e2"])
def test_parse_amount_refuses_non_plain_decimal_notation(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(text, 2, field="total")


@pytest.mark.parametrize(("minor", "exponent", "text"), [
    (1234, 2, "12.34"),
    (5, 2, "0.05"),
    (0, 2, "0.00"),
    (-5, 2, "-0.05"),
    (-1234, 2, "-12.34"),
    (1500, 0, "1500"),
    (-7, 0, "-7"),
    (0, 0, "0"),
    (1234, 3, "1.234"),
    (5, 3, "0.005"),
    (-1, 3, "-0.001"),
    (10**18, 2, "10000000000000000.00"),
])
def test_format_minor_writes_exactly_the_currency_places(minor: int, exponent: int,
                                                         text: str) -> None:
    assert format_minor(minor, exponent) == text


def test_exponents_of_known_currencies() -> None:
    assert (exponent_of("USD"), exponent_of("JPY"), exponent_of("KWD")) == (2, 0, 3)
    with pytest.raises(KeyError):
        exponent_of("usd")
    assert set(CURRENCY_EXPONENTS.values()) == {0, 2, 3}


MAX_INT64 = 2**63 - 1


@given(st.integers(-MAX_INT64, MAX_INT64), st.sampled_from([0, 2, 3]))
@example(MAX_INT64, 3)
@example(-MAX_INT64, 0)
def test_format_then_parse_round_trips(minor: int, exponent: int) -> None:
    text = format_minor(minor, exponent)
    assert parse_amount(text, exponent, field="x") == minor


@pytest.mark.parametrize("minor", [10**30 + 1, -(10**28) - 7])
def test_format_then_parse_round_trips_beyond_28_digits(minor: int) -> None:
    assert parse_amount(format_minor(minor, 2), 2, field="x") == minor
