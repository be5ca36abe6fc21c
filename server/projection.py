"""Projecting a batch of authentic store events into the central tables.

:func:`rows_for` is pure: events in, rows per table out. :func:`project` writes them in bulk
(a few statements per batch, whatever its size), keeps the per-day sales summary and the stock
levels as running sums in the same transaction, and files a ``stock_below_zero``
reconciliation item when a movement takes a store's stock of a SKU from zero or more to below
zero. Which events change which tables:

=======================  ===========================================================
sale.completed           sales, sale_lines, sale_tenders; stock out; day summary
sale.voided              sale_voids; the sold quantities back in stock; day summary
return.completed         returns; restocked lines back in stock (damaged ones not)
stock.received           stock in            transfer.received   stock in
transfer.shipped         stock out           stock.adjusted      stock +/- delta
stock.counted            stock +/- the count's delta per line
cash.session_opened/     cash_sessions       cash.paid_in/out,   cash_movements
cash.session_closed                          cash.no_sale
time.punched             time_punches
=======================  ===========================================================
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage.bulk import add_to_rows, insert_returning, insert_rows, rows_in
from server.storage.tables import (
    cash_movements,
    cash_sessions,
    reconciliation_items,
    returns,
    sale_lines,
    sale_tenders,
    sale_voids,
    sales,
    sales_daily,
    stock_levels,
    stock_movements,
    time_punches,
    transfers,
)
from sync import StoreEvent
from sync.quantities import to_milli

DAILY_FIELDS = ("sales_count", "subtotal_minor", "tax_minor", "total_minor", "voids_count",
                "voids_minor", "returns_count", "returns_minor")


@dataclass
class Rows:
    """What one batch adds, per table (sale lines and tenders wait for their sale's row id)."""

    sales: list[dict[str, Any]] = field(default_factory=list)
    lines: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tenders: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    voids: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)
    movements: list[dict[str, Any]] = field(default_factory=list)
    sessions_opened: list[dict[str, Any]] = field(default_factory=list)
    sessions_closed: list[dict[str, Any]] = field(default_factory=list)
    cash: list[dict[str, Any]] = field(default_factory=list)
    punches: list[dict[str, Any]] = field(default_factory=list)
    transfer_steps: list[StoreEvent] = field(default_factory=list)
    daily: dict[tuple[str, date], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(DAILY_FIELDS, 0)))


def rows_for(events: list[StoreEvent], zone: ZoneInfo) -> Rows:
    """The rows ``events`` (of one store, in the store's ``zone``) add; raises KeyError,
    TypeError or ValueError for a payload head office cannot project."""
    rows = Rows()
    for event in events:
        _BUILDERS.get(event.kind, _nothing)(event, rows, zone)
    return rows


def _nothing(_event: StoreEvent, _rows: Rows, _zone: ZoneInfo) -> None:
    """Kinds with no central table of their own (business_day.closed): kept raw only."""


def _day(event: StoreEvent) -> date:
    return date.fromisoformat(event.business_date)


def _move(rows: Rows, event: StoreEvent, sku: str, delta_milli: int, reference: str) -> None:
    if delta_milli:
        rows.movements.append({"store_id": event.store_id, "seq": event.seq, "sku": sku,
                               "delta_milli": delta_milli, "kind": event.kind,
                               "reference": reference, "business_date": _day(event)})


def _sale(event: StoreEvent, rows: Rows, zone: ZoneInfo) -> None:
    p = event.payload
    sale_id = p["sale_id"]
    recorded = datetime.fromisoformat(event.recorded_at.replace("Z", "+00:00"))
    rows.sales.append({
        "sale_id": sale_id, "store_id": event.store_id, "seq": event.seq,
        "terminal_id": p["terminal_id"], "receipt_no": p["receipt_no"],
        "business_date": _day(event), "recorded_at": event.recorded_at,
        "cashier": p["cashier"], "currency": p["currency"], "subtotal_minor": p["subtotal"],
        "tax_minor": p["tax"], "total_minor": p["total"], "change_due_minor": p["change_due"],
        "line_count": len(p["lines"]),
        "local_hour": recorded.astimezone(UTC).astimezone(zone).hour})
    for number, line in enumerate(p["lines"], start=1):
        quantity = to_milli(line["quantity"])
        rows.lines.append((sale_id, {
            "line_no": number, "sku": line["sku"], "name": line["name"],
            "quantity_milli": quantity, "unit_price_minor": line["unit_price"],
            "amount_minor": line["amount"], "tax_rate": line["tax_rate"]}))
        _move(rows, event, line["sku"], -quantity, sale_id)
    change_left = p["change_due"]
    for number, tender in enumerate(p["tenders"], start=1):
        net = tender["amount"]
        if tender["type"] == "cash" and change_left:
            net, change_left = net - change_left, 0
        rows.tenders.append((sale_id, {
            "tender_no": number, "type": tender["type"], "amount_minor": tender["amount"],
            "reference": tender.get("reference") or "", "net_minor": net}))
    day = rows.daily[(event.store_id, _day(event))]
    day["sales_count"] += 1
    day["subtotal_minor"] += p["subtotal"]
    day["tax_minor"] += p["tax"]
    day["total_minor"] += p["total"]


def _void(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
    p = event.payload
    rows.voids.append({"sale_id": p["sale_id"], "store_id": event.store_id, "seq": event.seq,
                       "business_date": _day(event), "reason": p["reason"],
                       "total_minor": p["total"]})
    for line in p["lines"]:
        _move(rows, event, line["sku"], to_milli(line["quantity"]), p["sale_id"])
    day = rows.daily[(event.store_id, _day(event))]
    day["voids_count"] += 1
    day["voids_minor"] += p["total"]


def _return(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
    p = event.payload
    rows.returns.append({
        "return_id": p["return_id"], "store_id": event.store_id, "seq": event.seq,
        "business_date": _day(event), "original_sale_id": p.get("original_sale_id"),
        "terminal_id": p["terminal_id"], "receipt_no": p["receipt_no"],
        "total_minor": p["total"], "tax_minor": p["tax"],
        "lines": [{"sku": ln["sku"], "quantity": ln["quantity"], "amount": ln["amount"],
                   "tax": ln["tax"], "disposition": ln["disposition"]} for ln in p["lines"]]})
    for line in p["lines"]:
        if line["disposition"] == "restock":
            _move(rows, event, line["sku"], to_milli(line["quantity"]), p["return_id"])
    day = rows.daily[(event.store_id, _day(event))]
    day["returns_count"] += 1
    day["returns_minor"] += p["total"]


def _stock_lines(sign: int, id_field: str) -> Any:
    def build(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
        for line in event.payload["lines"]:
            _move(rows, event, line["sku"], sign * to_milli(line["quantity"]),
                  event.payload[id_field])
        if event.kind.startswith("transfer.") and event.payload.get("transfer_id"):
            rows.transfer_steps.append(event)
    return build


def _adjusted(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
    p = event.payload
    _move(rows, event, p["sku"], to_milli(p["delta"]), p["adjustment_id"])


def _counted(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
    for line in event.payload["lines"]:
        _move(rows, event, line["sku"], to_milli(line["delta"]), event.payload["count_id"])


def _session_opened(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
    p = event.payload
    rows.sessions_opened.append({
        "session_id": p["session_id"], "store_id": event.store_id, "drawer_id": p["drawer_id"],
        "terminal_id": p["terminal_id"], "opened_by": p["employee_id"], "opened_seq": event.seq,
        "business_date": _day(event), "float_minor": p["float"]})


def _session_closed(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
    p = event.payload
    rows.sessions_closed.append({
        "session_id": p["session_id"], "closed_by": p["employee_id"], "closed_seq": event.seq,
        "expected": p["expected"], "counted": p["counted"], "over_short": p["over_short"]})


def _cash(kind: str) -> Any:
    def build(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
        p = event.payload
        rows.cash.append({
            "movement_id": p["movement_id"], "store_id": event.store_id, "seq": event.seq,
            "session_id": p["session_id"], "kind": kind, "employee_id": p["employee_id"],
            "amount_minor": p.get("amount", 0), "reason": p["reason"],
            "business_date": _day(event)})
    return build


def _punch(event: StoreEvent, rows: Rows, _zone: ZoneInfo) -> None:
    p = event.payload
    rows.punches.append({"punch_id": p["punch_id"], "store_id": event.store_id,
                         "seq": event.seq, "employee_id": p["employee_id"],
                         "action": p["action"], "recorded_at": event.recorded_at,
                         "business_date": _day(event)})


_BUILDERS = {
    "sale.completed": _sale,
    "sale.voided": _void,
    "return.completed": _return,
    "stock.received": _stock_lines(+1, "receipt_id"),
    "transfer.received": _stock_lines(+1, "receipt_id"),
    "transfer.shipped": _stock_lines(-1, "shipment_id"),
    "stock.adjusted": _adjusted,
    "stock.counted": _counted,
    "cash.session_opened": _session_opened,
    "cash.session_closed": _session_closed,
    "cash.paid_in": _cash("paid_in"),
    "cash.paid_out": _cash("paid_out"),
    "cash.no_sale": _cash("no_sale"),
    "time.punched": _punch,
}


async def project(conn: AsyncConnection, events: list[StoreEvent], zone: ZoneInfo) -> set[int]:
    """Write what ``events`` add; all of it or (the caller's savepoint) none of it. Returns
    the seqs of the sales it projected (a sale whose id is already held is not)."""
    rows = rows_for(events, zone)
    if rows.sales:
        # The new rows' ids come back from the insert itself: looking them up afterwards
        # was a query PostgreSQL planned as a scan of every sale while the table grew.
        ids = dict(await insert_returning(conn, sales, rows.sales, ("sale_id", "id")))
        await insert_rows(conn, sale_lines, [{"sale_row": ids[sale_id], **line}
                                             for sale_id, line in rows.lines])
        await insert_rows(conn, sale_tenders, [{"sale_row": ids[sale_id], **tender}
                                               for sale_id, tender in rows.tenders])
    for table, batch in ((sale_voids, rows.voids), (returns, rows.returns),
                         (cash_sessions, rows.sessions_opened), (cash_movements, rows.cash),
                         (time_punches, rows.punches)):
        await insert_rows(conn, table, batch)
    for closed in rows.sessions_closed:
        await conn.execute(cash_sessions.update()
                           .where(cash_sessions.c.session_id == closed["session_id"])
                           .values(**{k: v for k, v in closed.items() if k != "session_id"}))
    for step in rows.transfer_steps:
        await _transfer_step(conn, step)
    if rows.movements:
        await insert_rows(conn, stock_movements, rows.movements)
        await _apply_stock(conn, rows.movements)
    if rows.daily:
        await add_to_rows(conn, sales_daily, ("store_id", "business_date"), [
            {"store_id": store_id, "business_date": day, **sums}
            for (store_id, day), sums in rows.daily.items()], DAILY_FIELDS)
    return {int(sale["seq"]) for sale in rows.sales}


def _quantities(lines: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for line in lines:
        out[line["sku"]] += to_milli(line["quantity"])
    return dict(out)


async def _transfer_step(conn: AsyncConnection, event: StoreEvent) -> None:
    """Pair a store's shipment or receipt with head office's transfer order. The two stores
    sync independently, so a receipt may arrive before its shipment; whichever comes second
    is compared with the first (and a shipment with the order)."""
    p = event.payload
    transfer_id = p["transfer_id"]
    shipped = event.kind == "transfer.shipped"
    order = (await conn.execute(sa.select(transfers).where(
        transfers.c.transfer_id == transfer_id).with_for_update())).first()
    problems: list[tuple[str, dict[str, Any]]] = []
    if order is None:
        problems.append(("unknown_transfer", {"transfer_id": transfer_id, "event": event.kind}))
    else:
        expected_store = order.from_store_id if shipped else order.to_store_id
        if event.store_id != expected_store:
            problems.append(("transfer_wrong_store", {
                "transfer_id": transfer_id, "event": event.kind,
                "expected_store_id": expected_store}))
        got = _quantities(p["lines"])
        if shipped:
            checks = [("shipped vs ordered", _quantities(order.lines), got)]
            if order.received_lines is not None:  # the receiving store synced first
                checks.append(("received vs shipped", got,
                               _quantities(order.received_lines)))
        else:
            checks = [] if order.shipped_lines is None else [
                ("received vs shipped", _quantities(order.shipped_lines), got)]
        for stage, expected, actual in checks:
            differences = {sku: {"expected_milli": expected.get(sku, 0),
                                 "got_milli": actual.get(sku, 0)}
                           for sku in sorted(set(expected) | set(actual))
                           if expected.get(sku, 0) != actual.get(sku, 0)}
            if differences:
                problems.append(("transfer_discrepancy", {
                    "transfer_id": transfer_id, "stage": stage, "differences": differences}))
        values: dict[str, Any] = (
            {"shipped_seq": event.seq, "shipped_date": _day(event), "shipped_lines": p["lines"]}
            if shipped else
            {"received_seq": event.seq, "received_date": _day(event),
             "received_lines": p["lines"]})
        received = not shipped or order.received_seq is not None
        values["status"] = "received" if received else "shipped"
        await conn.execute(transfers.update().where(transfers.c.transfer_id == transfer_id)
                           .values(**values))
    if problems:
        now = datetime.now(UTC)
        await conn.execute(reconciliation_items.insert(), [
            {"store_id": event.store_id, "seq": event.seq, "kind": kind, "detail": detail,
             "status": "open", "created_at": now} for kind, detail in problems])


async def _apply_stock(conn: AsyncConnection, movements: list[dict[str, Any]]) -> None:
    """Add the movements to the running levels; file an item where one crosses below zero."""
    store_id = movements[0]["store_id"]
    skus = sorted({m["sku"] for m in movements})
    level: dict[str, int] = {sku: int(on_hand) for sku, on_hand in await rows_in(
        conn, stock_levels, ("sku", "on_hand_milli"), "sku", skus, store_id=store_id)}
    items, now = [], datetime.now(UTC)
    delta: dict[str, int] = defaultdict(int)
    for move in movements:
        sku = move["sku"]
        before = level.get(sku, 0)
        after = before + move["delta_milli"]
        level[sku] = after
        delta[sku] += move["delta_milli"]
        if before >= 0 > after:
            items.append({"store_id": store_id, "seq": move["seq"], "kind": "stock_below_zero",
                          "detail": {"sku": sku, "on_hand_before_milli": before,
                                     "on_hand_after_milli": after,
                                     "reference": move["reference"],
                                     "movement": move["kind"]},
                          "status": "open", "created_at": now})
    await add_to_rows(conn, stock_levels, ("store_id", "sku"), [
        {"store_id": store_id, "sku": sku, "on_hand_milli": d} for sku, d in delta.items()],
        ("on_hand_milli",))
    if items:
        await conn.execute(reconciliation_items.insert(), items)
