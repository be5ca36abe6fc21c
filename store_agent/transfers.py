"""Transfers between stores: head office orders them (they arrive in the pull feed); the
sending store ships (``transfer.shipped``: stock leaves), the receiving store receives against
the transfer id (``transfer.received``, through stock receipts: stock arrives). Each side is an
event in its own ledger; head office pairs them and sees what is in transit."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from store_agent import requests as rq
from store_agent.actions import Moment, perform
from store_agent.context import Outcome, StoreContext
from store_agent.employees import identify
from store_agent.errors import StateConflict, UnknownTransfer
from store_agent.stock import lines_of, on_hand_milli
from sync import Change
from sync.quantities import format_milli


def apply_transfer_order(db: Database, change: Change, store_id: str) -> None:
    """Keep head office's order (from the pull feed) for the store's side of it."""
    p = change.payload
    direction = "out" if p["from_store_id"] == store_id else "in"
    other = p["to_store_id"] if direction == "out" else p["from_store_id"]
    db.execute("INSERT INTO transfers (transfer_id, direction, other_store_id, lines, note) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT(transfer_id) DO UPDATE SET "
               "direction = excluded.direction, other_store_id = excluded.other_store_id, "
               "lines = excluded.lines, note = excluded.note",
               [p["transfer_id"], direction, other, json.dumps(p["lines"]), p.get("note")])


def list_transfers(db: Database) -> list[dict[str, Any]]:
    """Every transfer order the store knows, newest order first, with where it has got to."""
    rows = db.execute(
        "SELECT t.transfer_id, t.direction, t.other_store_id, t.lines, t.note, "
        "p.shipped_seq, p.received_seq FROM transfers t LEFT JOIN transfer_progress p "
        "USING (transfer_id) ORDER BY t.rowid DESC").fetchall()
    out = []
    for transfer_id, direction, other, lines, note, shipped, received in rows:
        done = shipped if direction == "out" else received
        out.append({"transfer_id": transfer_id, "direction": direction,
                    ("to_store_id" if direction == "out" else "from_store_id"): other,
                    "lines": json.loads(lines), "note": note,
                    "status": ("shipped" if direction == "out" else "received") if done
                    else ("to_ship" if direction == "out" else "to_receive")})
    return out


def ship(db: Database, store: StoreContext, request: dict[str, Any], now: datetime,
         transfer_id: str) -> Outcome:
    """Ship a transfer ordered from this store: the ordered lines, or those given (what really
    went on the truck)."""
    shipment_id = rq.client_id(request, "shipment_id")

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        employee = identify(db, request, "employee", store.require_pin)
        row = db.execute("SELECT direction, other_store_id, lines FROM transfers "
                         "WHERE transfer_id = ?", [transfer_id]).fetchone()
        if row is None or row[0] != "out":
            raise UnknownTransfer(transfer_id)
        shipped = db.execute("SELECT shipped_seq FROM transfer_progress WHERE transfer_id = ?",
                             [transfer_id]).fetchone()
        if shipped is not None and shipped[0] is not None:
            raise StateConflict("transfer_id", f"transfer {transfer_id} was already shipped "
                                               f"(event {shipped[0]})")
        if request.get("lines") is None:
            lines = [{"sku": line["sku"], "quantity": line["quantity"]}
                     for line in json.loads(row[2])]
        else:
            lines = [{"sku": sku, "quantity": str(q)} for sku, q in lines_of(db, request)]
        return "transfer.shipped", {"shipment_id": shipment_id, "transfer_id": transfer_id,
                                    "to_store_id": row[1], "employee_id": employee.employee_id,
                                    "lines": lines}

    return perform(db, store, f"shipment:{shipment_id}", request, now, build,
                   lambda event: {"shipment_id": shipment_id, "transfer_id": transfer_id,
                                  "seq": event.seq, "kind": event.kind,
                                  "lines": [{**line, "on_hand": format_milli(
                                      on_hand_milli(db, line["sku"]))}
                                      for line in event.payload["lines"]]})
