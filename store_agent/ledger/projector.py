"""Projections: how each kind of event changes the agent's derived tables.

Every write goes through :func:`record`: append the event, then project it, in the caller's
transaction. ``agent verify`` replays the whole log through the same projectors into an empty
database and compares, so a projection can never hold anything the events do not say.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from store_agent.basket import allocate
from store_agent.documents import sale_answer
from store_agent.ledger.eventlog import append_event
from sync.events import StoreEvent
from sync.quantities import to_milli as milli

Projector = Callable[[Database, StoreEvent], None]

# The tables rebuilt from the event log (and compared by ``agent verify``).
PROJECTED_TABLES: dict[str, str] = {
    "sales": "sale_id", "sale_lines": "sale_id, line_no", "receipt_counters": "terminal_id",
    "stock": "sku", "cash_sessions": "session_id", "cash_movements": "seq, tender, kind",
    "shifts": "employee_id", "business_days": "business_date",
    "transfer_progress": "transfer_id",
}


def record(db: Database, store_id: str, kind: str, payload: dict[str, Any], recorded_at: str,
           business_date: str) -> StoreEvent:
    """Append one event and apply it to the projections; the caller holds the transaction."""
    event = append_event(db, store_id, kind, payload, recorded_at, business_date)
    project(db, event)
    return event


def project(db: Database, event: StoreEvent) -> None:
    projector = PROJECTORS.get(event.kind)
    if projector is not None:
        projector(db, event)


def _stock(db: Database, sku: str, delta_milli: int) -> None:
    db.execute("INSERT INTO stock (sku, on_hand_milli) VALUES (?, ?) ON CONFLICT(sku) DO UPDATE "
               "SET on_hand_milli = on_hand_milli + excluded.on_hand_milli", [sku, delta_milli])


def _receipt_counter(db: Database, terminal_id: str, receipt_no: int) -> None:
    db.execute("INSERT INTO receipt_counters (terminal_id, last_no) VALUES (?, ?) "
               "ON CONFLICT(terminal_id) DO UPDATE SET last_no = MAX(last_no, excluded.last_no)",
               [terminal_id, receipt_no])


def _movement(db: Database, seq: int, session_id: str | None, kind: str, tender: str,
              amount: int) -> None:
    if session_id and amount:
        db.execute("INSERT INTO cash_movements (seq, session_id, kind, tender, amount_minor) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT(seq, tender, kind) DO UPDATE SET "
                   "amount_minor = amount_minor + excluded.amount_minor",
                   [seq, session_id, kind, tender, amount])


def _tender_movements(db: Database, seq: int, session_id: str | None, kind: str,
                      tenders: list[dict[str, Any]], change_due: int, sign: int) -> None:
    for tender in tenders:
        amount = tender["amount"] - (change_due if tender["type"] == "cash" else 0)
        change_due = 0 if tender["type"] == "cash" else change_due
        _movement(db, seq, session_id, kind, tender["type"], sign * amount)


def _sale_completed(db: Database, event: StoreEvent) -> None:
    p = event.payload
    answer = sale_answer(p, event.seq, event.business_date)
    db.execute(
        "INSERT INTO sales (sale_id, seq, terminal_id, receipt_no, business_date, cashier, "
        "total_minor, tax_minor, request_digest, response, session_id, status) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?, 'completed')",
        [p["sale_id"], event.seq, p["terminal_id"], p["receipt_no"], event.business_date,
         p["cashier"], p["total"], p["tax"], p.get("request_digest", ""), json.dumps(answer),
         p.get("session_id")])
    _receipt_counter(db, p["terminal_id"], p["receipt_no"])
    taxes = _line_taxes(p)
    for number, line in enumerate(p["lines"], start=1):
        quantity = milli(line["quantity"])
        db.execute("INSERT INTO sale_lines (sale_id, line_no, sku, quantity_milli, amount_minor, "
                   "tax_minor, returned_milli) VALUES (?, ?, ?, ?, ?, ?, 0)",
                   [p["sale_id"], number, line["sku"], quantity, line["amount"], taxes[number - 1]])
        _stock(db, line["sku"], -quantity)
    _tender_movements(db, event.seq, p.get("session_id"), "sale", p["tenders"], p["change_due"], 1)


def _line_taxes(p: dict[str, Any]) -> list[int]:
    """Each line's share of its rate's tax (for exact refunds of part of a sale)."""
    shares = [0] * len(p["lines"])
    for tax in p["taxes"]:
        index = [i for i, ln in enumerate(p["lines"]) if ln["tax_rate"] == tax["rate"]]
        parts = allocate(tax["tax"], [p["lines"][i]["amount"] for i in index])
        for i, part in zip(index, parts, strict=True):
            shares[i] = part
    return shares


def _sale_voided(db: Database, event: StoreEvent) -> None:
    p = event.payload
    db.execute("UPDATE sales SET status = 'voided' WHERE sale_id = ?", [p["sale_id"]])
    for line in p["lines"]:
        _stock(db, line["sku"], milli(line["quantity"]))
    _tender_movements(db, event.seq, p.get("session_id"), "void", p["tenders"], p["change_due"],
                      -1)


def _return_completed(db: Database, event: StoreEvent) -> None:
    p = event.payload
    _receipt_counter(db, p["terminal_id"], p["receipt_no"])
    for line in p["lines"]:
        if p.get("original_sale_id") and line.get("original_line_no"):
            db.execute("UPDATE sale_lines SET returned_milli = returned_milli + ? "
                       "WHERE sale_id = ? AND line_no = ?",
                       [milli(line["quantity"]), p["original_sale_id"], line["original_line_no"]])
        if line["disposition"] == "restock":
            _stock(db, line["sku"], milli(line["quantity"]))
    for refund in p["refunds"]:
        _movement(db, event.seq, p.get("session_id"), "refund", refund["type"], -refund["amount"])


def _stock_lines(db: Database, event: StoreEvent) -> None:
    for line in event.payload["lines"]:
        _stock(db, line["sku"], milli(line["quantity"]))


def _transfer_progress(db: Database, transfer_id: str, column: str, seq: int) -> None:
    db.execute(f"INSERT INTO transfer_progress (transfer_id, {column}) VALUES (?, ?) "
               f"ON CONFLICT(transfer_id) DO UPDATE SET {column} = excluded.{column}",
               [transfer_id, seq])


def _transfer_shipped(db: Database, event: StoreEvent) -> None:
    for line in event.payload["lines"]:
        _stock(db, line["sku"], -milli(line["quantity"]))
    _transfer_progress(db, event.payload["transfer_id"], "shipped_seq", event.seq)


def _transfer_received(db: Database, event: StoreEvent) -> None:
    _stock_lines(db, event)
    _transfer_progress(db, event.payload["transfer_id"], "received_seq", event.seq)


def _stock_adjusted(db: Database, event: StoreEvent) -> None:
    _stock(db, event.payload["sku"], milli(event.payload["delta"]))


def _stock_counted(db: Database, event: StoreEvent) -> None:
    for line in event.payload["lines"]:
        _stock(db, line["sku"], milli(line["delta"]))


def _session_opened(db: Database, event: StoreEvent) -> None:
    p = event.payload
    db.execute("INSERT INTO cash_sessions (session_id, drawer_id, terminal_id, business_date, "
               "opened_seq, opened_at, opened_by, float_minor, status) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
               [p["session_id"], p["drawer_id"], p["terminal_id"], event.business_date,
                event.seq, event.recorded_at, p["employee_id"], p["float"]])
    _movement(db, event.seq, p["session_id"], "float", "cash", p["float"])


def _paid(sign: int) -> Projector:
    def apply(db: Database, event: StoreEvent) -> None:
        p = event.payload
        _movement(db, event.seq, p["session_id"], "paid_in" if sign > 0 else "paid_out", "cash",
                  sign * p["amount"])
    return apply


def _session_closed(db: Database, event: StoreEvent) -> None:
    p = event.payload
    db.execute("UPDATE cash_sessions SET status = 'closed', closed_seq = ?, closed_at = ?, "
               "closed_by = ? WHERE session_id = ?",
               [event.seq, event.recorded_at, p["employee_id"], p["session_id"]])


def _punched(db: Database, event: StoreEvent) -> None:
    p = event.payload
    db.execute("INSERT INTO shifts (employee_id, state, since, seq) VALUES (?, ?, ?, ?) "
               "ON CONFLICT(employee_id) DO UPDATE SET state = excluded.state, "
               "since = excluded.since, seq = excluded.seq",
               [p["employee_id"], p["state_after"], event.recorded_at, event.seq])


def _day_closed(db: Database, event: StoreEvent) -> None:
    db.execute("INSERT INTO business_days (business_date, status, closed_seq) "
               "VALUES (?, 'closed', ?)", [event.payload["business_date"], event.seq])


def _audit_only(_db: Database, _event: StoreEvent) -> None:
    """Events that are facts for the record but change no projection (a no-sale opening)."""


PROJECTORS: dict[str, Projector] = {
    "sale.completed": _sale_completed,
    "sale.voided": _sale_voided,
    "return.completed": _return_completed,
    "stock.received": _stock_lines,
    "transfer.received": _transfer_received,
    "transfer.shipped": _transfer_shipped,
    "stock.adjusted": _stock_adjusted,
    "stock.counted": _stock_counted,
    "cash.session_opened": _session_opened,
    "cash.paid_in": _paid(1),
    "cash.paid_out": _paid(-1),
    "cash.no_sale": _audit_only,
    "cash.session_closed": _session_closed,
    "time.punched": _punched,
    "business_day.closed": _day_closed,
}
