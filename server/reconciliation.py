"""Checking authentic sales against what head office knows. A sale is a fact and is always
accepted; what does not match head office's catalog becomes a reconciliation item:

- ``unknown_sku``: a line's SKU is not in head office's catalog;
- ``price_mismatch``: a line priced from the store's catalog (not by a manager's override or
  a scale label) differs from head office's price in force for that store at the time of the
  sale.

One open item per store and SKU (and, for a price, per pair of prices): a store that sells an
unknown SKU a hundred times before head office fixes its catalog gets one item to resolve,
naming the first sale, not a hundred. Once resolved, a new occurrence files a new item.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage.bulk import rows_in
from server.storage.tables import catalog_prices, catalog_products, reconciliation_items
from sync import StoreEvent


class ScheduledPrice(NamedTuple):
    """A price head office scheduled for a SKU, chain-wide (no store) or for one store."""

    id: int  # entry order
    sku: str
    store_id: str | None
    effective_at: str
    price_minor: int


async def check_sales(conn: AsyncConnection, events: list[StoreEvent]) -> int:
    """File items for a batch's sales; return how many were filed."""
    skus = {line["sku"] for e in events for line in e.payload["lines"]}
    if not skus:
        return 0
    known: dict[str, int] = dict(await rows_in(
        conn, catalog_products, ("sku", "price_minor"), "sku", sorted(skus)))
    scheduled: dict[str, list[ScheduledPrice]] = {}
    # In effective order, and at equal times in the order entered, so the price entered last
    # wins — as at the store, which keeps one price per SKU and instant, the last it pulled.
    for row in sorted(map(ScheduledPrice._make, await rows_in(
            conn, catalog_prices, ScheduledPrice._fields, "sku", sorted(known))),
            key=lambda price: (price.effective_at, price.id)):
        scheduled.setdefault(row.sku, []).append(row)
    items = []
    now = datetime.now(UTC)
    seen = await _open_keys(conn, events[0].store_id)
    for event in events:
        for number, line in enumerate(event.payload["lines"], start=1):
            sku = line["sku"]
            where = {"sale_id": event.payload["sale_id"], "line_no": number, "sku": sku}
            if sku not in known:
                key: tuple[Any, ...] = ("unknown_sku", event.store_id, sku)
                if key not in seen:
                    seen.add(key)
                    items.append(_item(event, "unknown_sku", {**where, "name": line["name"]},
                                       now))
                continue
            expected = _price_in_force(known[sku], scheduled.get(sku, []), event)
            if line["unit_price"] != expected and \
                    line.get("price_source", "catalog") == "catalog":
                key = ("price_mismatch", event.store_id, sku, line["unit_price"], expected)
                if key not in seen:
                    seen.add(key)
                    items.append(_item(event, "price_mismatch", {
                        **where, "store_price": line["unit_price"],
                        "head_office_price": expected}, now))
    if items:
        await conn.execute(reconciliation_items.insert(), items)
    return len(items)


async def _open_keys(conn: AsyncConnection, store_id: str) -> set[tuple[Any, ...]]:
    """What the store's open catalog items are about, to file each problem once."""
    result = await conn.execute(
        sa.select(reconciliation_items.c.kind, reconciliation_items.c.detail).where(
            reconciliation_items.c.store_id == store_id,
            reconciliation_items.c.status == "open",
            reconciliation_items.c.kind.in_(("unknown_sku", "price_mismatch"))))
    keys: set[tuple[Any, ...]] = set()
    for kind, detail in result:
        if kind == "unknown_sku":
            keys.add((kind, store_id, detail["sku"]))
        else:
            keys.add((kind, store_id, detail["sku"], detail["store_price"],
                      detail["head_office_price"]))
    return keys


def _price_in_force(base: int, scheduled: list[ScheduledPrice], event: StoreEvent) -> int:
    price = base
    for row in scheduled:  # in effective order, then entry order
        if row.effective_at <= event.recorded_at and row.store_id in (None, event.store_id):
            price = row.price_minor
    return price


def _item(event: StoreEvent, kind: str, detail: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"store_id": event.store_id, "seq": event.seq, "kind": kind, "detail": detail,
            "status": "open", "created_at": now}
