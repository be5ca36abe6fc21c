"""Reading fields out of a terminal's JSON request: each reader names the field it refuses."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from store_agent.basket import AMOUNT, PERCENT, Discount
from store_agent.errors import InvalidSale
from sync.errors import InvalidAmount
from sync.money import parse_amount

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,63}$")
MAX_QUANTITY = Decimal(100_000)


def client_id(request: dict[str, Any], field: str) -> str:
    """A client-chosen idempotency id (8-64 characters; a UUID is ideal)."""
    value = request.get(field)
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidSale(field, "required: 8-64 letters, digits or '-_.:' chosen by the "
                                 "terminal (a UUID is ideal); it makes retries safe")
    return value


def text(request: dict[str, Any], field: str, max_length: int, required: bool = True) -> str:
    value = request.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidSale(field, f"{'required, ' if required else ''}1-{max_length} characters")
    return value.strip()


def quantity(value: Any, field: str, allow_zero: bool = False,
             allow_negative: bool = False) -> Decimal:
    """A quantity: a whole number or a decimal string with at most 3 places."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidSale(field, "must be a whole number or a decimal string such as \"0.350\"")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidSale(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidSale(field, f"{value!r} is not a finite number")
    if (number == 0 and not allow_zero) or (number < 0 and not allow_negative):
        raise InvalidSale(field, f"must be greater than zero, got {value!r}")
    exponent = number.as_tuple().exponent
    if (isinstance(exponent, int) and exponent < -3) or abs(number) > MAX_QUANTITY:
        raise InvalidSale(field, "at most 3 decimal places and at most 100000")
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else \
        number.normalize()


def amount(value: Any, exponent: int, field: str, allow_zero: bool = False) -> int:
    """A money amount (decimal string) in minor units, greater than zero unless allowed."""
    try:
        minor = parse_amount(value, exponent, field=field)
    except InvalidAmount as exc:
        raise InvalidSale(exc.field, str(exc).split(": ", 1)[1]) from None
    if minor < 0 or (minor == 0 and not allow_zero):
        raise InvalidSale(field, "must be greater than zero")
    return minor


def discount(value: Any, exponent: int, field: str) -> Discount | None:
    """``{"percent": "10", "reason": ...}`` or ``{"amount": "1.50", "reason": ...}``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidSale(field, "must be {\"percent\": \"10\"} or {\"amount\": \"1.50\"}, "
                                 "with a reason")
    reason = text(value, "reason", 64) if isinstance(value.get("reason"), str) else ""
    if not reason:
        raise InvalidSale(f"{field}.reason", "a discount needs a reason")
    if ("percent" in value) == ("amount" in value):
        raise InvalidSale(field, "give either percent or amount")
    if "percent" in value:
        percent = quantity(value["percent"], f"{field}.percent")
        if percent > 100:
            raise InvalidSale(f"{field}.percent", "at most 100")
        return Discount(kind=PERCENT, value=percent, reason=reason)
    return Discount(kind=AMOUNT, value=Decimal(amount(value["amount"], exponent,
                                                      f"{field}.amount")), reason=reason)
