"""Stock in the store: goods received (free, or against a head-office transfer), adjustments
with a reason code, physical counts turned into adjustments against the ledger's own figure
at that moment, and on-hand queries. Quantities are integer thousandths inside."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from store_agent import requests as rq
from store_agent.actions import Moment, perform
from store_agent.catalog import find_by_sku
from store_agent.context import Outcome, StoreContext
from store_agent.employees import identify
from store_agent.errors import InvalidSale
from sync.events import StoreEvent
from sync.quantities import format_milli
from sync.quantities import to_milli as milli

ADJUSTMENT_REASONS = frozenset({"damaged", "theft", "found", "expired", "correction",
                                "sample", "other"})
MAX_LINES = 1000


def on_hand_milli(db: Database, sku: str) -> int:
    row = db.execute("SELECT on_hand_milli FROM stock WHERE sku = ?", [sku]).fetchone()
    return 0 if row is None else int(row[0])


def receive(db: Database, store: StoreContext, request: dict[str, Any],
            now: datetime) -> Outcome:
    receipt_id = rq.client_id(request, "receipt_id")

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        employee = identify(db, request, "employee", store.require_pin)
        transfer_id = rq.text(request, "transfer_id", 64, required=False)
        lines = lines_of(db, request, "quantity")
        kind = "transfer.received" if transfer_id else "stock.received"
        costs = _unit_costs(request, store.exponent) if not transfer_id else {}
        return kind, {"receipt_id": receipt_id, "transfer_id": transfer_id or None,
                      "employee_id": employee.employee_id,
                      "supplier_reference": rq.text(request, "reference", 64, required=False),
                      "lines": [{"sku": sku, "quantity": str(q),
                                 **({"unit_cost": costs[i]} if i in costs else {})}
                                for i, (sku, q) in enumerate(lines)]}

    return perform(db, store, f"receipt:{receipt_id}", request, now, build,
                   lambda event: _stock_answer(db, event, "receipt_id"))


def _unit_costs(request: dict[str, Any], exponent: int) -> dict[int, int]:
    """Each goods-received line's optional ``unit_cost`` (the supplier's price per unit, a
    decimal string), in minor units: head office values the stock at it."""
    out = {}
    for index, raw in enumerate(request.get("lines") or []):
        if isinstance(raw, dict) and raw.get("unit_cost") is not None:
            out[index] = rq.amount(raw["unit_cost"], exponent, f"lines[{index}].unit_cost",
                                   allow_zero=True)
    return out


def adjust(db: Database, store: StoreContext, request: dict[str, Any],
           now: datetime) -> Outcome:
    adjustment_id = rq.client_id(request, "adjustment_id")

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        employee = identify(db, request, "employee", store.require_pin)
        reason = request.get("reason")
        if reason not in ADJUSTMENT_REASONS:
            raise InvalidSale("reason", f"must be one of {', '.join(sorted(ADJUSTMENT_REASONS))}")
        sku = find_by_sku(db, rq.text(request, "sku", 64), "sku").sku
        delta = rq.quantity(request.get("delta"), "delta", allow_negative=True)
        return "stock.adjusted", {"adjustment_id": adjustment_id, "sku": sku,
                                  "delta": str(delta), "reason": reason,
                                  "note": rq.text(request, "note", 200, required=False),
                                  "employee_id": employee.employee_id}

    return perform(db, store, f"adjustment:{adjustment_id}", request, now, build,
                   lambda event: {"adjustment_id": adjustment_id, "seq": event.seq,
                                  "sku": event.payload["sku"], "delta": event.payload["delta"],
                                  "on_hand": format_milli(on_hand_milli(db,
                                                                        event.payload["sku"]))})


def count(db: Database, store: StoreContext, request: dict[str, Any], now: datetime) -> Outcome:
    """A physical count, stored as the count and as the difference from the ledger's figure
    at this moment (what the projection says, inside the same transaction)."""
    count_id = rq.client_id(request, "count_id")

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        employee = identify(db, request, "employee", store.require_pin)
        lines = []
        for sku, counted in lines_of(db, request, "counted", allow_zero=True):
            before = on_hand_milli(db, sku)
            lines.append({"sku": sku, "counted": str(counted),
                          "on_hand_before": format_milli(before),
                          "delta": format_milli(milli(str(counted)) - before)})
        return "stock.counted", {"count_id": count_id, "employee_id": employee.employee_id,
                                 "lines": lines}

    return perform(db, store, f"count:{count_id}", request, now, build,
                   lambda event: _stock_answer(db, event, "count_id"))


def lines_of(db: Database, request: dict[str, Any], field: str = "quantity",
             allow_zero: bool = False) -> list[tuple[str, Decimal]]:
    """A request's ``lines`` of known SKUs with a quantity each (one line per SKU)."""
    raw_lines = request.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines or len(raw_lines) > MAX_LINES:
        raise InvalidSale("lines", f"1-{MAX_LINES} lines of {{\"sku\", \"{field}\"}}")
    out: list[tuple[str, Decimal]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_lines):
        where = f"lines[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("sku"), str):
            raise InvalidSale(where, f"must be {{\"sku\": ..., \"{field}\": ...}}")
        sku = find_by_sku(db, raw["sku"], f"{where}.sku").sku
        if sku in seen:
            raise InvalidSale(f"{where}.sku", f"{sku} appears twice; one line per SKU")
        seen.add(sku)
        out.append((sku, rq.quantity(raw.get(field), f"{where}.{field}", allow_zero=allow_zero)))
    return out


def _stock_answer(db: Database, event: StoreEvent, id_field: str) -> dict[str, Any]:
    return {id_field: event.payload[id_field], "seq": event.seq, "kind": event.kind,
            "lines": [{**line, "on_hand": format_milli(on_hand_milli(db, line["sku"]))}
                      for line in event.payload["lines"]]}
