"""Money: integer minor units inside, ``Decimal`` strings at the edges, never float.

Every Decimal -> minor-units conversion goes through :func:`to_minor` with an explicit
rounding mode, so the rounding rule is in one place.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sync.errors import InvalidAmount

# ISO 4217 minor-unit exponents for the currencies a deployment may use.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2,
    "GBP": 2, "HKD": 2, "HUF": 2, "INR": 2, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2,
    "NOK": 2, "NZD": 2, "PLN": 2, "SEK": 2, "SGD": 2, "USD": 2, "ZAR": 2,
}


def exponent_of(currency: str) -> int:
    """Digits after the decimal point for ``currency``."""
    return CURRENCY_EXPONENTS[currency]


def to_minor(amount: Decimal, exponent: int, rounding: str = ROUND_HALF_UP) -> int:
    """Convert a major-unit ``Decimal`` to integer minor units, rounding with ``rounding``."""
    scaled = (amount * (Decimal(10) ** exponent)).quantize(Decimal(1), rounding=rounding)
    return int(scaled)


def parse_amount(text: object, exponent: int, *, field: str) -> int:
    """Parse a money string such as ``"12.34"`` into minor units; refuse floats and excess digits.

    More decimal places than the currency has is an error, not a silent rounding: a POS that
    sends ``"1.005"`` for a two-decimal currency has a bug the cashier should see.
    """
    if not isinstance(text, str):
        raise InvalidAmount(field, f"must be a decimal string like \"12.34\", got "
                                   f"{type(text).__name__}")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidAmount(field, f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise InvalidAmount(field, f"{text!r} is not a finite amount")
    exp = value.as_tuple().exponent
    if isinstance(exp, int) and -exp > exponent:
        raise InvalidAmount(field, f"{text!r} has more than {exponent} decimal places")
    return to_minor(value, exponent)


def format_minor(minor: int, exponent: int) -> str:
    """Render minor units as a decimal string with exactly ``exponent`` places."""
    value = Decimal(minor).scaleb(-exponent)
    return f"{value:.{exponent}f}"
