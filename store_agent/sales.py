"""Ringing up a sale: validate the request, price it, and record the event with its
projections in one transaction. Idempotent on the client's ``sale_id``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from store_agent.basket import (
    TENDER_TYPES,
    BasketLine,
    NonCashOverpayment,
    Settlement,
    Tender,
    TendersShort,
    Totals,
    price_basket,
    settle,
)
from store_agent.business_day import business_date
from store_agent.catalog import find_by_barcode, find_by_sku
from store_agent.clock import utc_text
from store_agent.errors import InvalidSale, SaleConflict, TendersDoNotCover
from store_agent.ledger import append_event, write_transaction
from sync.errors import InvalidAmount
from sync.money import format_minor, parse_amount

_SALE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,63}$")
_FULL_CARD_NUMBER = re.compile(r"\d{12,19}")
MAX_LINES = 500


@dataclass(frozen=True, slots=True)
class StoreContext:
    store_id: str
    timezone: str
    day_cutoff: str
    currency: str
    exponent: int


@dataclass(frozen=True, slots=True)
class SaleOutcome:
    created: bool
    response: dict[str, Any]


def record_sale(db: Database, store: StoreContext, terminal_id: str, request: dict[str, Any],
                now: datetime) -> SaleOutcome:
    """Record the sale described by ``request`` (already JSON-decoded) or replay its answer."""
    sale_id = request.get("sale_id")
    if not isinstance(sale_id, str) or not _SALE_ID.match(sale_id):
        raise InvalidSale("sale_id", "required: 8-64 letters, digits or '-_.:' chosen by the "
                                     "terminal (a UUID is ideal); it makes retries safe")
    digest = hashlib.sha256(json.dumps(request, sort_keys=True,
                                       separators=(",", ":")).encode()).hexdigest()
    with write_transaction(db):
        previous = _previous(db, sale_id)
        if previous is not None:
            if previous[0] != digest:
                raise SaleConflict(sale_id)
            return SaleOutcome(created=False, response=json.loads(previous[1]))
        cashier = _text(request, "cashier", 32)
        lines = _basket_lines(db, request)
        totals = price_basket(lines)
        tenders = _tenders(request, store.exponent)
        try:
            settlement = settle(totals.total_minor, tenders)
        except TendersShort as exc:
            raise TendersDoNotCover(format_minor(exc.total_minor, store.exponent),
                                    format_minor(exc.tendered_minor, store.exponent)) from None
        except NonCashOverpayment as exc:
            non_cash = format_minor(exc.non_cash_minor, store.exponent)
            raise InvalidSale("tenders", f"non-cash tenders ({non_cash}) exceed the total; "
                                         "change is given only from cash") from None
        receipt_no = _next_receipt_no(db, terminal_id)
        day = business_date(now, store.timezone, store.day_cutoff).isoformat()
        payload = {
            "sale_id": sale_id, "terminal_id": terminal_id, "receipt_no": receipt_no,
            "cashier": cashier, "currency": store.currency,
            "lines": [{"sku": ln.sku, "name": ln.name, "quantity": str(ln.quantity),
                       "unit_price": ln.unit_price_minor, "amount": ln.amount_minor,
                       "tax_rate": str(ln.tax_rate)} for ln in totals.lines],
            "taxes": [{"rate": str(t.rate), "taxable": t.taxable_minor, "tax": t.tax_minor}
                      for t in totals.taxes],
            "subtotal": totals.subtotal_minor, "tax": totals.tax_minor,
            "total": totals.total_minor,
            "tenders": [{"type": t.type, "amount": t.amount_minor, "reference": t.reference,
                         "approval_code": t.approval_code} for t in tenders],
            "change_due": settlement.change_due_minor,
        }
        event = append_event(db, store.store_id, "sale.completed", payload, utc_text(now), day)
        response = _answer(store, event.seq, day, payload, totals, settlement)
        db.execute(
            "INSERT INTO sales (sale_id, seq, terminal_id, receipt_no, business_date, cashier, "
            "total_minor, tax_minor, request_digest, response) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [sale_id, event.seq, terminal_id, receipt_no, day, cashier, totals.total_minor,
             totals.tax_minor, digest, json.dumps(response)])
    return SaleOutcome(created=True, response=response)


def quote_basket(db: Database, store: StoreContext, request: dict[str, Any]) -> dict[str, Any]:
    """Price a basket without recording anything: what the terminal shows before payment."""
    return {"currency": store.currency,
            **_totals_json(price_basket(_basket_lines(db, request)), store.exponent)}


def sales_summary(db: Database, business_date_: str | None) -> dict[str, Any]:
    """Count and totals of sales in the ledger, for one business date or all of them."""
    where, params = ("WHERE business_date = ?", [business_date_]) if business_date_ else ("", [])
    rows = db.execute(
        f"SELECT business_date, COUNT(*), SUM(total_minor), SUM(tax_minor) FROM sales {where} "
        "GROUP BY business_date ORDER BY business_date", params).fetchall()
    return {"days": [{"business_date": r[0], "count": r[1], "total_minor": r[2],
                      "tax_minor": r[3]} for r in rows]}


def _previous(db: Database, sale_id: str) -> tuple[str, str] | None:
    row = db.execute("SELECT request_digest, response FROM sales WHERE sale_id = ?",
                     [sale_id]).fetchone()
    return None if row is None else (row[0], row[1])


def _next_receipt_no(db: Database, terminal_id: str) -> int:
    db.execute("INSERT INTO receipt_counters (terminal_id, last_no) VALUES (?, 1) "
               "ON CONFLICT(terminal_id) DO UPDATE SET last_no = last_no + 1", [terminal_id])
    row = db.execute("SELECT last_no FROM receipt_counters WHERE terminal_id = ?",
                     [terminal_id]).fetchone()
    return int(row[0])


def _basket_lines(db: Database, request: dict[str, Any]) -> tuple[BasketLine, ...]:
    raw_lines = request.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidSale("lines", "a sale needs at least one line")
    if len(raw_lines) > MAX_LINES:
        raise InvalidSale("lines", f"at most {MAX_LINES} lines per sale")
    lines = []
    for index, raw in enumerate(raw_lines):
        where = f"lines[{index}]"
        if not isinstance(raw, dict):
            raise InvalidSale(where, "must be an object with sku or barcode and quantity")
        quantity = _quantity(raw.get("quantity"), f"{where}.quantity")
        if isinstance(raw.get("barcode"), str) and raw["barcode"]:
            product = find_by_barcode(db, raw["barcode"], f"{where}.barcode")
        elif isinstance(raw.get("sku"), str) and raw["sku"]:
            product = find_by_sku(db, raw["sku"], f"{where}.sku")
        else:
            raise InvalidSale(where, "needs a sku or a barcode")
        lines.append(BasketLine(product=product, quantity=quantity))
    return tuple(lines)


def _quantity(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidSale(field, "must be a whole number or a decimal string such as \"0.350\"")
    try:
        quantity = Decimal(value)
    except InvalidOperation:
        raise InvalidSale(field, f"{value!r} is not a number") from None
    if not quantity.is_finite() or quantity <= 0:
        raise InvalidSale(field, f"must be greater than zero, got {value!r}")
    if quantity.as_tuple().exponent < -3 or quantity > 100_000:  # type: ignore[operator]
        raise InvalidSale(field, "at most 3 decimal places and at most 100000")
    return quantity.normalize() if quantity == quantity.to_integral() else quantity


def _tenders(request: dict[str, Any], exponent: int) -> tuple[Tender, ...]:
    raw_tenders = request.get("tenders")
    if not isinstance(raw_tenders, list) or not raw_tenders:
        raise InvalidSale("tenders", "a sale needs at least one tender")
    tenders = []
    for index, raw in enumerate(raw_tenders):
        where = f"tenders[{index}]"
        if not isinstance(raw, dict):
            raise InvalidSale(where, "must be an object with type and amount")
        kind = raw.get("type")
        if kind not in TENDER_TYPES:
            raise InvalidSale(f"{where}.type", f"must be one of {', '.join(sorted(TENDER_TYPES))}")
        try:
            amount = parse_amount(raw.get("amount"), exponent, field=f"{where}.amount")
        except InvalidAmount as exc:
            raise InvalidSale(exc.field, str(exc).split(": ", 1)[1]) from None
        if amount <= 0:
            raise InvalidSale(f"{where}.amount", "must be greater than zero")
        reference = str(raw.get("reference") or "")
        if _FULL_CARD_NUMBER.search(reference.replace(" ", "").replace("-", "")):
            raise InvalidSale(f"{where}.reference", "looks like a full card number; send only a "
                                                    "masked reference such as '****1234'")
        tenders.append(Tender(type=kind, amount_minor=amount, reference=reference[:32],
                              approval_code=str(raw.get("approval_code") or "")[:16]))
    return tuple(tenders)


def _text(request: dict[str, Any], field: str, max_length: int) -> str:
    value = request.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidSale(field, f"required, 1-{max_length} characters")
    return value.strip()


def _totals_json(totals: Totals, exponent: int) -> dict[str, Any]:
    def money(minor: int) -> str:
        return format_minor(minor, exponent)

    return {
        "lines": [{"sku": ln.sku, "name": ln.name, "quantity": str(ln.quantity),
                   "unit_price": money(ln.unit_price_minor), "amount": money(ln.amount_minor),
                   "tax_rate": str(ln.tax_rate)} for ln in totals.lines],
        "taxes": [{"rate": str(t.rate), "taxable": money(t.taxable_minor),
                   "tax": money(t.tax_minor)} for t in totals.taxes],
        "subtotal": money(totals.subtotal_minor), "tax": money(totals.tax_minor),
        "total": money(totals.total_minor),
    }


def _answer(store: StoreContext, seq: int, day: str, payload: dict[str, Any], totals: Totals,
            settlement: Settlement) -> dict[str, Any]:
    return {
        "sale_id": payload["sale_id"], "seq": seq, "business_date": day,
        "terminal_id": payload["terminal_id"], "receipt_no": payload["receipt_no"],
        "receipt_number": f"{payload['terminal_id']}-{payload['receipt_no']:06d}",
        "currency": store.currency,
        **_totals_json(totals, store.exponent),
        "tendered": format_minor(settlement.tendered_minor, store.exponent),
        "change_due": format_minor(settlement.change_due_minor, store.exponent),
    }
