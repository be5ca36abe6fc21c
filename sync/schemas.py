"""A schema per event kind, checked when a push batch is decoded.

Missing fields, wrong types and oversized values are refused with the path of the field
("events[3].payload.lines[0].amount: expected an integer"). Fields a schema does not name are
accepted and kept: a newer agent may add facts inside the same protocol version, and an older
server must not refuse them (renaming or retyping a field is a new version).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from sync.errors import DecodeError

MAX_TEXT = 256
MAX_ITEMS = 1000
MAX_INT = 2**63 - 1
_DECIMAL = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")


class Spec(ABC):
    """How one value is checked."""

    @abstractmethod
    def check(self, value: Any, path: str) -> None:
        """Raise DecodeError naming ``path`` if ``value`` does not fit."""


class Text(Spec):
    def __init__(self, max_length: int = MAX_TEXT, optional: bool = False) -> None:
        self.max_length = max_length
        self.optional = optional

    def check(self, value: Any, path: str) -> None:
        if value is None and self.optional:
            return
        if not isinstance(value, str):
            raise DecodeError(path, f"expected a string, got {type(value).__name__}")
        if len(value) > self.max_length:
            raise DecodeError(path, f"longer than {self.max_length} characters")


class Integer(Spec):
    def __init__(self, minimum: int = -MAX_INT, optional: bool = False) -> None:
        self.minimum = minimum
        self.optional = optional

    def check(self, value: Any, path: str) -> None:
        if value is None and self.optional:
            return
        if not isinstance(value, int) or isinstance(value, bool):
            raise DecodeError(path, f"expected an integer, got {type(value).__name__}")
        if not self.minimum <= value <= MAX_INT:
            raise DecodeError(path, f"{value} is out of range (at least {self.minimum})")


class DecimalText(Spec):
    """A decimal number written as a string (quantities, rates): never a float."""

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or not _DECIMAL.match(value) or len(value) > 16:
            raise DecodeError(path, f"expected a decimal string of at most 16 characters "
                                    f"such as \"1.5\", got {value!r}")


class Choice(Spec):
    def __init__(self, *options: object) -> None:
        self.options = options

    def check(self, value: Any, path: str) -> None:
        if value not in self.options:
            options = ", ".join(map(str, self.options))
            raise DecodeError(path, f"expected one of {options}, got {value!r}")


class Items(Spec):
    def __init__(self, item: Spec, max_items: int = MAX_ITEMS) -> None:
        self.item = item
        self.max_items = max_items

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise DecodeError(path, f"expected an array, got {type(value).__name__}")
        if len(value) > self.max_items:
            raise DecodeError(path, f"{len(value)} items; at most {self.max_items}")
        for index, item in enumerate(value):
            self.item.check(item, f"{path}[{index}]")


class Amounts(Spec):
    """A map of tender type to integer minor units."""

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, dict) or len(value) > 20:
            raise DecodeError(path, "expected a map of tender to amount")
        for key, amount in value.items():
            Text(32).check(key, f"{path} key")
            Integer().check(amount, f"{path}.{key}")


class Record(Spec):
    def __init__(self, optional: bool = False, **fields: Spec) -> None:
        self.fields = fields
        self.optional = optional

    def check(self, value: Any, path: str) -> None:
        if value is None and self.optional:
            return
        if not isinstance(value, dict):
            raise DecodeError(path, f"expected a map, got {type(value).__name__}")
        for name, spec in self.fields.items():
            if name not in value:
                if getattr(spec, "optional", False):
                    continue
                raise DecodeError(f"{path}.{name}", "missing")
            spec.check(value[name], f"{path}.{name}")


# Limits match the central columns they land in (server/storage/tables.py), so that a value
# the contract accepts can always be stored.
ID = Text(64)
SHORT_ID = Text(32)
MONEY = Integer()
TENDER = Record(type=Choice("cash", "card", "gift_card"), amount=Integer(minimum=0),
                reference=Text(64, optional=True))

SCHEMAS: dict[str, Record] = {
    "sale.completed": Record(
        sale_id=ID, terminal_id=SHORT_ID, receipt_no=Integer(minimum=1), cashier=SHORT_ID,
        currency=Text(3),
        lines=Items(Record(sku=ID, name=Text(200), quantity=DecimalText(), unit_price=MONEY,
                           amount=MONEY, tax_rate=DecimalText())),
        taxes=Items(Record(rate=DecimalText(), taxable=MONEY, tax=MONEY)),
        subtotal=MONEY, tax=MONEY, total=MONEY, tenders=Items(TENDER, 20),
        change_due=Integer(minimum=0)),
    "sale.voided": Record(
        sale_id=ID, reason=Text(), lines=Items(Record(sku=ID, quantity=DecimalText())),
        tenders=Items(TENDER, 20), change_due=Integer(minimum=0), total=MONEY),
    "return.completed": Record(
        return_id=ID, original_sale_id=Text(64, optional=True), terminal_id=ID,
        receipt_no=Integer(minimum=1),
        lines=Items(Record(sku=ID, quantity=DecimalText(), amount=MONEY, tax=MONEY,
                           disposition=Choice("restock", "damaged"))),
        refunds=Items(TENDER, 20), total=MONEY, tax=MONEY),
    "stock.received": Record(receipt_id=ID,
                             lines=Items(Record(sku=ID, quantity=DecimalText()))),
    "transfer.received": Record(receipt_id=ID, transfer_id=ID,
                                lines=Items(Record(sku=ID, quantity=DecimalText()))),
    "transfer.shipped": Record(shipment_id=ID, transfer_id=ID, to_store_id=SHORT_ID,
                               lines=Items(Record(sku=ID, quantity=DecimalText()))),
    "stock.adjusted": Record(adjustment_id=ID, sku=ID, delta=DecimalText(), reason=Text(32)),
    "stock.counted": Record(count_id=ID, lines=Items(Record(
        sku=ID, counted=DecimalText(), on_hand_before=DecimalText(), delta=DecimalText()))),
    "cash.session_opened": Record(session_id=ID, drawer_id=ID, terminal_id=ID,
                                  employee_id=ID, float=Integer(minimum=0)),
    "cash.session_closed": Record(session_id=ID, employee_id=ID, expected=Amounts(),
                                  counted=Amounts(), over_short=Amounts()),
    "cash.paid_in": Record(movement_id=ID, session_id=ID, employee_id=ID,
                           amount=Integer(minimum=1), reason=Text()),
    "cash.paid_out": Record(movement_id=ID, session_id=ID, employee_id=ID,
                            amount=Integer(minimum=1), reason=Text()),
    "cash.no_sale": Record(movement_id=ID, session_id=ID, employee_id=ID, reason=Text()),
    "time.punched": Record(punch_id=ID, employee_id=ID,
                           action=Choice("in", "break_start", "break_end", "out"),
                           state_before=Choice("off", "working", "on_break"),
                           state_after=Choice("off", "working", "on_break")),
    "business_day.closed": Record(business_date=Text(10), employee_id=ID),
}


def check_payload(kind: str, payload: Any, path: str) -> None:
    """Raise DecodeError naming the field if ``payload`` does not fit ``kind``'s schema."""
    SCHEMAS[kind].check(payload, path)


# Changes head office sends down (pull), one schema per kind.
CHANGE_SCHEMAS: dict[str, Record] = {
    "product": Record(sku=ID, name=Text(), price=Integer(minimum=0), tax_rate=DecimalText(),
                      barcodes=Items(Text(32), 50), active=Choice(True, False)),
    "price": Record(sku=ID, effective_at=Text(32), price=Integer(minimum=0)),
    "tax_rate": Record(code=Text(32), rate=DecimalText(), name=Text()),
    "transfer": Record(transfer_id=ID, from_store_id=SHORT_ID, to_store_id=SHORT_ID,
                       lines=Items(Record(sku=ID, quantity=DecimalText())),
                       note=Text(optional=True)),
    "employee": Record(employee_id=ID, name=Text(), role=Choice("cashier", "manager"),
                       pin_hash=Text(200), active=Choice(True, False)),
}
