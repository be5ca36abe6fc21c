"""Money: integer minor units inside, ``Decimal`` strings at the edges, never float.

Every Decimal -> minor-units conversion goes through :func:`to_minor` with an explicit
rounding mode, so the rounding rule is in one place.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

from sync.errors import InvalidAmount

# ISO 4217 minor-unit exponents for the currencies a deployment may use.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2,
    "GBP": 2, "HKD": 2, "HUF": 2, "INR": 2, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2,
    "NOK": 2, "NZD": 2, "PLN": 2, "SEK": 2, "SGD": 2, "USD": 2, "ZAR": 2,
}


# A plain decimal: ASCII digits, an optional sign and point; no exponents, underscores or
# other scripts' digits, which Decimal() would otherwise take.
_PLAIN_DECIMAL = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?")


def exponent_of(currency: str) -> int:
    """Digits after the decimal point for ``currency``."""
    return CURRENCY_EXPONENTS[currency]


def to_minor(amount: Decimal, exponent: int, rounding: str = ROUND_HALF_UP) -> int:
    """Convert a major-unit ``Decimal`` to integer minor units, rounding with ``rounding``."""
    with localcontext() as context:  # exact whatever the size: enough digits for the amount
        context.prec = len(amount.as_tuple().digits) + max(0, amount.adjusted()) + exponent + 4
        scaled = amount.scaleb(exponent).quantize(Decimal(1), rounding=rounding)
    return int(scaled)


def parse_amount(text: object, exponent: int, *, field: str) -> int:
    """Parse a money string such as ``"12.34"`` into minor units; refuse floats and excess digits.

    More decimal places than the currency has is an error, not a silent rounding: a POS that
    sends ``"1.005"`` for a two-decimal currency has a bug the cashier should see.
    """
    if not isinstance(text, str):
        raise InvalidAmount(field, f"must be a decimal string like \"12.34\", got "
                                   f"{type(text).__name__}")
    match = _PLAIN_DECIMAL.fullmatch(text.strip())
    if match is None:
        raise InvalidAmount(field, f"{text!r} is not a decimal number like \"12.34\"")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > exponent:
        raise InvalidAmount(field, f"{text!r} has more than {exponent} decimal places")
    minor: int = int(whole) * 10 ** exponent + int(fraction.ljust(exponent, "0") or "0")
    return -minor if text.strip().startswith("-") else minor


def format_minor(minor: int, exponent: int) -> str:
    """Render minor units as a decimal string with exactly ``exponent`` places."""
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10 ** exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"
