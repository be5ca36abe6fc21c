"""Ringing up a sale: validate the request, price it, and record the ``sale.completed`` event
with its projections and its receipt print job in one transaction. Idempotent on the client's
``sale_id``: the same request again gets the first answer, different content a conflict.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from store_agent import requests as rq
from store_agent.basket import (
    TENDER_TYPES,
    BasketLine,
    DiscountTooLarge,
    NonCashOverpayment,
    Tender,
    TendersShort,
    Totals,
    price_basket,
    settle,
)
from store_agent.business_day import business_date
from store_agent.catalog import find_by_barcode, find_by_sku
from store_agent.clock import utc_text
from store_agent.context import Outcome, StoreContext, request_digest
from store_agent.documents import totals_json
from store_agent.employees import identify, manager_approval
from store_agent.errors import (
    InvalidSale,
    SaleConflict,
    StateConflict,
    TendersDoNotCover,
    UnknownSale,
)
from store_agent.ledger import write_transaction
from store_agent.ledger.projector import record
from sync.money import format_minor

_FULL_CARD_NUMBER = re.compile(r"\d{12,19}")
MAX_LINES = 500


def record_sale(db: Database, store: StoreContext, terminal_id: str, request: dict[str, Any],
                now: datetime) -> Outcome:
    """Record the sale described by ``request`` (already JSON-decoded) or replay its answer."""
    sale_id = rq.client_id(request, "sale_id")
    digest = request_digest(request)
    with write_transaction(db):
        previous = db.execute("SELECT request_digest, response FROM sales WHERE sale_id = ?",
                              [sale_id]).fetchone()
        if previous is not None:
            if previous[0] != digest:
                raise SaleConflict(sale_id)
            return Outcome(created=False, response=json.loads(previous[1]))
        day = business_date(now, store.timezone, store.day_cutoff).isoformat()
        ensure_day_open(db, day)
        drawer_id = rq.text(request, "drawer_id", 32, required=False) or terminal_id
        session_id = open_session_for(db, drawer_id)
        cashier = identify(db, request, "cashier", store.require_pin)
        lines = basket_lines(db, request, store, utc_text(now))
        totals = _price(request, lines, store)
        approvals = _approvals(db, request, lines, totals, store)
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
        receipt_no = next_receipt_no(db, terminal_id)
        payload = {
            "sale_id": sale_id, "terminal_id": terminal_id, "receipt_no": receipt_no,
            "cashier": cashier.employee_id, "session_id": session_id, "drawer_id": drawer_id,
            "currency": store.currency, "store_name": store.name,
            "prices_include_tax": store.prices_include_tax, "request_digest": digest,
            **basket_payload(lines, totals),
            "tenders": [{"type": t.type, "amount": t.amount_minor, "reference": t.reference,
                         "approval_code": t.approval_code} for t in tenders],
            "change_due": settlement.change_due_minor,
            "approvals": approvals,
        }
        event = record(db, store.store_id, "sale.completed", payload, utc_text(now), day)
        # The projector stored the answer with the sale; give exactly that one.
        answer = json.loads(db.execute("SELECT response FROM sales WHERE sale_id = ?",
                                       [sale_id]).fetchone()[0])
        enqueue_print(db, event.seq, terminal_id, "receipt", answer["receipt"], utc_text(now))
    return Outcome(created=True, response=answer, seq=event.seq, kind=event.kind)


def quote_basket(db: Database, store: StoreContext, request: dict[str, Any],
                 now: datetime) -> dict[str, Any]:
    """Price a basket without recording anything: what the terminal shows before payment."""
    lines = basket_lines(db, request, store, utc_text(now))
    totals = _price(request, lines, store)

    def money(minor: int) -> str:
        return format_minor(minor, store.exponent)

    return {"currency": store.currency, "prices_include_tax": store.prices_include_tax,
            **totals_json(basket_payload(lines, totals), money)}


def basket_payload(lines: tuple[BasketLine, ...], totals: Totals) -> dict[str, Any]:
    """The priced basket as it goes into an event: integers for money, strings for decimals."""
    return {
        "lines": [
            {"line_no": n, "sku": ln.sku, "name": ln.name, "quantity": str(ln.quantity),
             "unit_price": ln.unit_price_minor, "list_price": ln.list_price_minor,
             "gross": ln.gross_minor, "discount": ln.discount_minor,
             "discount_reason": (src.discount.reason if src.discount else ""),
             "override_reason": src.override_reason, "price_source": src.price_source,
             "amount": ln.amount_minor,
             "tax_rate": str(ln.tax_rate)}
            for n, (ln, src) in enumerate(zip(totals.lines, lines, strict=True), start=1)],
        "taxes": [{"rate": str(t.rate), "taxable": t.taxable_minor, "tax": t.tax_minor}
                  for t in totals.taxes],
        "subtotal": totals.subtotal_minor, "discount": totals.discount_minor,
        "tax": totals.tax_minor, "total": totals.total_minor,
    }


def ensure_day_open(db: Database, day: str) -> None:
    if db.execute("SELECT 1 FROM business_days WHERE business_date = ? AND status = 'closed'",
                  [day]).fetchone():
        raise StateConflict("business_date", f"business day {day} is closed; nothing more can "
                                             "be recorded on it")


def open_session_for(db: Database, drawer_id: str) -> str:
    row = db.execute("SELECT session_id FROM cash_sessions WHERE drawer_id = ? AND "
                     "status = 'open'", [drawer_id]).fetchone()
    if row is None:
        raise StateConflict("drawer_id", f"drawer {drawer_id} has no open cash session; open "
                                         "one with POST /api/v1/cash-sessions")
    return str(row[0])


def next_receipt_no(db: Database, terminal_id: str) -> int:
    row = db.execute("SELECT last_no FROM receipt_counters WHERE terminal_id = ?",
                     [terminal_id]).fetchone()
    return 1 if row is None else int(row[0]) + 1


def enqueue_print(db: Database, seq: int, terminal_id: str, kind: str, document: Any,
                  created_at: str) -> int:
    """A durable print job, committed with the sale: the printer never blocks the sale.
    Returns the job id."""
    cursor = db.execute("INSERT INTO print_queue (seq, terminal_id, kind, document, status, "
                        "attempts, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?)",
                        [seq, terminal_id, kind, json.dumps(document), created_at])
    return int(cursor.lastrowid or 0)


def queue_reprint(db: Database, sale_id: str, created_at: str) -> int:
    """Queue a copy of a recorded sale's receipt; returns the job id."""
    with write_transaction(db):
        row = db.execute("SELECT seq, terminal_id FROM sales WHERE sale_id = ?",
                         [sale_id]).fetchone()
        if row is None:
            raise UnknownSale(sale_id)
        return enqueue_print(db, row[0], row[1], "reprint", {}, created_at)


def sales_summary(db: Database, business_date_: str | None) -> dict[str, Any]:
    """Count and totals of completed (not voided) sales, per business date."""
    where, params = ("AND business_date = ?", [business_date_]) if business_date_ else ("", [])
    rows = db.execute(
        f"SELECT business_date, COUNT(*), SUM(total_minor), SUM(tax_minor) FROM sales "
        f"WHERE status = 'completed' {where} GROUP BY business_date ORDER BY business_date",
        params).fetchall()
    return {"days": [{"business_date": r[0], "count": r[1], "total_minor": r[2],
                      "tax_minor": r[3]} for r in rows]}


def basket_lines(db: Database, request: dict[str, Any], store: StoreContext,
                 now: str) -> tuple[BasketLine, ...]:
    raw_lines = request.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidSale("lines", "a sale needs at least one line")
    if len(raw_lines) > MAX_LINES:
        raise InvalidSale("lines", f"at most {MAX_LINES} lines per sale")
    return tuple(_line(db, raw, f"lines[{i}]", store, now) for i, raw in enumerate(raw_lines))


def _line(db: Database, raw: Any, where: str, store: StoreContext, now: str) -> BasketLine:
    if not isinstance(raw, dict):
        raise InvalidSale(where, "must be an object with sku or barcode and quantity")
    override_price: int | None = None
    source = "catalog"
    if isinstance(raw.get("barcode"), str) and raw["barcode"]:
        scanned = find_by_barcode(db, raw["barcode"], f"{where}.barcode", now, store.labels)
        product = scanned.product
        if scanned.embedded_weight_kg is not None:
            if "quantity" in raw:
                raise InvalidSale(f"{where}.quantity", "a weighed item's quantity comes from its "
                                                       "scale label; leave quantity out")
            quantity = scanned.embedded_weight_kg
            if quantity <= 0:
                raise InvalidSale(f"{where}.barcode", "the scale label weighs nothing")
        else:
            quantity = rq.quantity(raw.get("quantity", 1), f"{where}.quantity")
            override_price = scanned.embedded_price_minor
            if override_price is not None:
                source = "label"
    elif isinstance(raw.get("sku"), str) and raw["sku"]:
        product = find_by_sku(db, raw["sku"], f"{where}.sku", now)
        quantity = rq.quantity(raw.get("quantity", 1), f"{where}.quantity")
    else:
        raise InvalidSale(where, "needs a sku or a barcode")
    override_reason = ""
    if raw.get("price_override") is not None:
        override = raw["price_override"]
        if not isinstance(override, dict):
            raise InvalidSale(f"{where}.price_override",
                              "must be {\"price\": ..., \"reason\": ...}")
        override_price = rq.amount(override.get("price"), store.exponent,
                                   f"{where}.price_override.price", allow_zero=True)
        override_reason = rq.text(override, "reason", 64) if isinstance(
            override.get("reason"), str) else ""
        if not override_reason:
            raise InvalidSale(f"{where}.price_override.reason", "a price override needs a reason")
        source = "override"
    return BasketLine(product=product, quantity=quantity,
                      discount=rq.discount(raw.get("discount"), store.exponent,
                                           f"{where}.discount"),
                      override_price_minor=override_price, override_reason=override_reason,
                      price_source=source)


def _price(request: dict[str, Any], lines: tuple[BasketLine, ...], store: StoreContext) -> Totals:
    basket_discount = rq.discount(request.get("basket_discount"), store.exponent,
                                  "basket_discount")
    try:
        return price_basket(lines, basket_discount, store.prices_include_tax)
    except DiscountTooLarge as exc:
        raise InvalidSale(exc.where, str(exc).split(": ", 1)[1]) from None


def _approvals(db: Database, request: dict[str, Any], lines: tuple[BasketLine, ...],
               totals: Totals, store: StoreContext) -> list[dict[str, str]]:
    reasons = [f"price override on {ln.product.sku}" for ln in lines if ln.override_reason]
    if totals.largest_discount_percent > Decimal(store.discount_limit_percent):
        reasons.append(f"discount above {store.discount_limit_percent}%")
    if not reasons:
        return []
    manager = manager_approval(db, request, " and ".join(reasons))
    return [{"by": manager.employee_id, "for": reason} for reason in reasons]


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
        amount = rq.amount(raw.get("amount"), exponent, f"{where}.amount")
        reference = raw.get("reference") or ""
        approval = raw.get("approval_code") or ""
        if not isinstance(reference, str) or not isinstance(approval, str):
            raise InvalidSale(where, "reference and approval_code must be strings")
        if _FULL_CARD_NUMBER.search(re.sub(r"[\s-]", "", reference + " " + approval)):
            raise InvalidSale(f"{where}.reference", "looks like a full card number; send only a "
                                                    "masked reference such as '****1234'")
        if kind != "cash" and not reference:
            raise InvalidSale(f"{where}.reference", f"a {kind} tender needs its masked reference")
        tenders.append(Tender(type=kind, amount_minor=amount, reference=reference[:32],
                              approval_code=approval[:16]))
    return tuple(tenders)
