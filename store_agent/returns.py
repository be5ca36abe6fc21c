"""Correcting sales without rewriting them: a void (same business day, open session, manager)
and a return with or without the original receipt (never more than was sold; restocked or
written off as damaged). Each is its own event; the original sale is never changed."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from store_agent import requests as rq
from store_agent.actions import Moment, perform
from store_agent.basket import TENDER_TYPES, BasketLine, price_basket
from store_agent.catalog import find_by_barcode, find_by_sku
from store_agent.context import Outcome, StoreContext
from store_agent.documents import receipt_number
from store_agent.employees import identify, manager_approval
from store_agent.errors import InvalidSale, StateConflict, UnknownSale
from store_agent.sales import next_receipt_no, open_session_for
from sync.events import StoreEvent
from sync.money import format_minor
from sync.money import to_minor as _to_minor
from sync.quantities import to_milli as milli

DISPOSITIONS = frozenset({"restock", "damaged"})


def void_sale(db: Database, store: StoreContext, terminal_id: str, sale_id: str,
              request: dict[str, Any], now: datetime) -> Outcome:
    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        sale = _sale(db, sale_id)
        if sale["status"] != "completed":
            raise StateConflict("sale_id", f"sale {sale_id} is already {sale['status']}")
        if sale["business_date"] != moment.business_date:
            raise StateConflict("sale_id", f"sale {sale_id} belongs to business day "
                                           f"{sale['business_date']}; only today's sales "
                                           f"({moment.business_date}) can be voided — take a "
                                           "return instead")
        session = db.execute("SELECT status FROM cash_sessions WHERE session_id = ?",
                             [sale["session_id"]]).fetchone()
        if session is None or session[0] != "open":
            raise StateConflict("sale_id", f"the cash session of sale {sale_id} is closed; "
                                           "take a return instead")
        returned = db.execute("SELECT COALESCE(SUM(returned_milli), 0) FROM sale_lines "
                              "WHERE sale_id = ?", [sale_id]).fetchone()[0]
        if returned:
            raise StateConflict("sale_id", f"sale {sale_id} already has returns against it; "
                                           "return the rest instead of voiding")
        cashier = identify(db, request, "employee", store.require_pin)
        manager = manager_approval(db, request, "voiding a sale")
        payload = sale["payload"]
        return "sale.voided", {
            "sale_id": sale_id, "terminal_id": terminal_id,
            "original_terminal_id": payload["terminal_id"],
            "original_receipt_no": payload["receipt_no"], "employee_id": cashier.employee_id,
            "approved_by": manager.employee_id, "reason": rq.text(request, "reason", 64),
            "session_id": sale["session_id"], "currency": payload["currency"],
            "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in payload["lines"]],
            "tenders": payload["tenders"], "change_due": payload["change_due"],
            "total": payload["total"]}

    def answer(event: StoreEvent) -> dict[str, Any]:
        p = event.payload
        return {"sale_id": sale_id, "status": "voided", "seq": event.seq,
                "reason": p["reason"], "approved_by": p["approved_by"],
                "refund": [{"type": t["type"], "amount": format_minor(
                    t["amount"] - (p["change_due"] if t["type"] == "cash" else 0),
                    store.exponent)} for t in p["tenders"]]}

    return perform(db, store, f"void:{sale_id}", request, now, build, answer)


def record_return(db: Database, store: StoreContext, terminal_id: str, request: dict[str, Any],
                  now: datetime) -> Outcome:
    return_id = rq.client_id(request, "return_id")

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        drawer_id = rq.text(request, "drawer_id", 32, required=False) or terminal_id
        session_id = open_session_for(db, drawer_id)
        cashier = identify(db, request, "employee", store.require_pin)
        original_id = request.get("original_sale_id")
        if original_id is not None:
            lines = _lines_with_receipt(db, request, str(original_id), store)
            approved_by = None
        else:
            lines = _lines_without_receipt(db, request, store, moment.recorded_at)
            approved_by = manager_approval(db, request, "a return without a receipt").employee_id
        total = sum(ln["amount"] for ln in lines)
        refunds = _refunds(request, total, store.exponent)
        receipt_no = next_receipt_no(db, terminal_id)
        return "return.completed", {
            "return_id": return_id, "original_sale_id": original_id, "terminal_id": terminal_id,
            "receipt_no": receipt_no, "employee_id": cashier.employee_id,
            "approved_by": approved_by, "session_id": session_id, "currency": store.currency,
            "reason": rq.text(request, "reason", 64), "lines": lines,
            "tax": sum(ln["tax"] for ln in lines), "total": total, "refunds": refunds}

    def answer(event: StoreEvent) -> dict[str, Any]:
        p = event.payload

        def money(minor: int) -> str:
            return format_minor(minor, store.exponent)

        return {"return_id": return_id, "seq": event.seq, "original_sale_id":
                p["original_sale_id"], "receipt_no": p["receipt_no"],
                "receipt_number": receipt_number(terminal_id, p["receipt_no"]),
                "lines": [{**ln, "amount": money(ln["amount"]), "tax": money(ln["tax"])}
                          for ln in p["lines"]],
                "tax": money(p["tax"]), "total": money(p["total"]),
                "refunds": [{**r, "amount": money(r["amount"])} for r in p["refunds"]]}

    return perform(db, store, f"return:{return_id}", request, now, build, answer)


def _sale(db: Database, sale_id: str) -> dict[str, Any]:
    row = db.execute("SELECT s.status, s.business_date, s.session_id, e.payload FROM sales s "
                     "JOIN events e ON e.seq = s.seq WHERE s.sale_id = ?", [sale_id]).fetchone()
    if row is None:
        raise UnknownSale(sale_id)
    return {"status": row[0], "business_date": row[1], "session_id": row[2],
            "payload": json.loads(row[3])}


def _lines_with_receipt(db: Database, request: dict[str, Any], sale_id: str,
                        store: StoreContext) -> list[dict[str, Any]]:
    sale = _sale(db, sale_id)
    if sale["status"] != "completed":
        raise StateConflict("original_sale_id", f"sale {sale_id} is {sale['status']}; nothing "
                                                "to return")
    sold = {r[0]: r for r in db.execute(
        "SELECT line_no, sku, quantity_milli, amount_minor, tax_minor, returned_milli "
        "FROM sale_lines WHERE sale_id = ?", [sale_id]).fetchall()}
    inclusive = bool(sale["payload"].get("prices_include_tax"))
    out = []
    for index, raw in enumerate(_raw_lines(request)):
        where = f"lines[{index}]"
        line_no = raw.get("line_no")
        if not isinstance(line_no, int) or line_no not in sold:
            raise InvalidSale(f"{where}.line_no", f"sale {sale_id} has lines 1-{len(sold)}")
        _, sku, qty_sold, amount, tax, returned = sold[line_no]
        quantity = rq.quantity(raw.get("quantity"), f"{where}.quantity")
        wanted = milli(str(quantity))
        if returned + wanted > qty_sold:
            left = (qty_sold - returned) / Decimal(1000)
            raise InvalidSale(f"{where}.quantity", f"line {line_no} sold "
                                                   f"{Decimal(qty_sold) / 1000:f}, "
                                                   f"{left:f} left to return")
        # The refund telescopes: returning a line in parts refunds exactly its whole amount.
        gross = amount + (0 if inclusive else tax)
        refund = _share(gross, returned + wanted, qty_sold) - _share(gross, returned, qty_sold)
        line_tax = _share(tax, returned + wanted, qty_sold) - _share(tax, returned, qty_sold)
        rate = sale["payload"]["lines"][line_no - 1]["tax_rate"]
        out.append({"original_line_no": line_no, "sku": sku, "quantity": str(quantity),
                    "amount": refund, "tax": line_tax, "tax_rate": rate,
                    "disposition": _disposition(raw, where)})
    return out


def _lines_without_receipt(db: Database, request: dict[str, Any], store: StoreContext,
                           now: str) -> list[dict[str, Any]]:
    out = []
    for index, raw in enumerate(_raw_lines(request)):
        where = f"lines[{index}]"
        if isinstance(raw.get("barcode"), str):
            product = find_by_barcode(db, raw["barcode"], f"{where}.barcode", now,
                                      store.labels).product
        else:
            product = find_by_sku(db, str(raw.get("sku") or ""), f"{where}.sku", now)
        quantity = rq.quantity(raw.get("quantity"), f"{where}.quantity")
        totals = price_basket((BasketLine(product=product, quantity=quantity),),
                              prices_include_tax=store.prices_include_tax)
        out.append({"original_line_no": None, "sku": product.sku, "quantity": str(quantity),
                    "amount": totals.total_minor, "tax": totals.tax_minor,
                    "tax_rate": str(product.tax_rate),
                    "disposition": _disposition(raw, where)})
    return out


def _raw_lines(request: dict[str, Any]) -> list[dict[str, Any]]:
    raw_lines = request.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines or \
            not all(isinstance(r, dict) for r in raw_lines):
        raise InvalidSale("lines", "a return needs at least one line object")
    return raw_lines


def _disposition(raw: dict[str, Any], where: str) -> str:
    value = raw.get("disposition", "restock")
    if value not in DISPOSITIONS:
        raise InvalidSale(f"{where}.disposition", "must be 'restock' (back on the shelf) or "
                                                  "'damaged' (written off)")
    return str(value)


def _share(total: int, part_milli: int, whole_milli: int) -> int:
    return _to_minor(Decimal(total) * part_milli / whole_milli, 0)


def _refunds(request: dict[str, Any], total: int, exponent: int) -> list[dict[str, Any]]:
    raw = request.get("refunds", [{"type": "cash"}])
    if not isinstance(raw, list) or not raw:
        raise InvalidSale("refunds", "give how the money goes back, e.g. [{\"type\": \"cash\"}]")
    refunds, given = [], 0
    for index, item in enumerate(raw):
        where = f"refunds[{index}]"
        if not isinstance(item, dict) or item.get("type") not in TENDER_TYPES:
            raise InvalidSale(f"{where}.type", f"must be one of {', '.join(sorted(TENDER_TYPES))}")
        last = index == len(raw) - 1
        amount = total - given if last and "amount" not in item else \
            rq.amount(item.get("amount"), exponent, f"{where}.amount")
        given += amount
        refunds.append({"type": item["type"], "amount": amount,
                        "reference": str(item.get("reference") or "")[:32]})
    if given != total:
        raise InvalidSale("refunds", f"refunds add up to {format_minor(given, exponent)} but "
                                     f"the return is worth {format_minor(total, exponent)}")
    return refunds
