"""Applying a pushed batch: one transaction, per the sync contract.

Events at or below the store's high-water mark are skipped (after checking they match what is
held); a gap or a broken hash chain refuses the whole batch; everything else is recorded raw
and projected into the central tables. No authentic event is refused for business reasons.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import ChainBroken, HistoryDiverged, SeqGap
from server.storage import Storage
from server.storage.tables import sale_lines, sale_tenders, sales, store_events, stores
from sync import PushAck, PushBatch, StoreEvent, first_broken_link

log = logging.getLogger(__name__)


async def apply_push(storage: Storage, batch: PushBatch, received_at: datetime) -> PushAck:
    store_id = batch.store_id
    async with storage.write() as conn:
        row = (await conn.execute(
            sa.select(stores.c.high_water, stores.c.last_hash)
            .where(stores.c.store_id == store_id).with_for_update())).one()
        high_water, last_hash = int(row.high_water), str(row.last_hash)
        old = [e for e in batch.events if e.seq <= high_water]
        new = [e for e in batch.events if e.seq > high_water]
        if old:
            await _check_already_held(conn, store_id, old)
        if new:
            if new[0].seq != high_water + 1:
                raise SeqGap(store_id, high_water + 1, new[0].seq)
            broken = first_broken_link(last_hash, new)
            if broken is not None:
                raise ChainBroken(store_id, broken)
            await _record(conn, new, received_at)
            high_water, last_hash = new[-1].seq, new[-1].hash
        await conn.execute(stores.update().where(stores.c.store_id == store_id).values(
            high_water=high_water, last_hash=last_hash, last_seen_at=received_at))
    return PushAck(high_water=high_water, last_hash=last_hash, applied=len(new))


async def _check_already_held(conn: AsyncConnection, store_id: str,
                              events: list[StoreEvent]) -> None:
    held = dict((await conn.execute(
        sa.select(store_events.c.seq, store_events.c.hash).where(
            store_events.c.store_id == store_id,
            store_events.c.seq.in_([e.seq for e in events])))).tuples().all())
    for event in events:
        if held.get(event.seq) != event.hash:
            raise HistoryDiverged(store_id, event.seq)


async def _record(conn: AsyncConnection, events: list[StoreEvent], received_at: datetime) -> None:
    await conn.execute(store_events.insert(), [
        {"store_id": e.store_id, "seq": e.seq, "event_id": e.event_id, "kind": e.kind,
         "recorded_at": e.recorded_at, "business_date": date.fromisoformat(e.business_date),
         "payload": e.payload, "hash": e.hash, "received_at": received_at}
        for e in events])
    for event in events:
        if event.kind == "sale.completed":
            try:
                async with conn.begin_nested():
                    await _project_sale(conn, event)
            except (KeyError, TypeError, ValueError, sa.exc.IntegrityError) as exc:
                # The raw event is kept whatever happens; a payload head office cannot project
                # must never block the store's queue. Reconciliation items will surface these.
                log.warning("store %s seq %s: sale not projected (%r); raw event kept",
                            event.store_id, event.seq, exc)


async def _project_sale(conn: AsyncConnection, event: StoreEvent) -> None:
    p: dict[str, Any] = event.payload
    sale_row = (await conn.execute(sales.insert().values(
        sale_id=p["sale_id"], store_id=event.store_id, seq=event.seq,
        terminal_id=p["terminal_id"], receipt_no=p["receipt_no"],
        business_date=date.fromisoformat(event.business_date), recorded_at=event.recorded_at,
        cashier=p["cashier"], currency=p["currency"], subtotal_minor=p["subtotal"],
        tax_minor=p["tax"], total_minor=p["total"], change_due_minor=p["change_due"],
        line_count=len(p["lines"])).returning(sales.c.id))).scalar_one()
    await conn.execute(sale_lines.insert(), [
        {"sale_row": sale_row, "line_no": n, "sku": ln["sku"], "name": ln["name"],
         "quantity_milli": int(Decimal(ln["quantity"]) * 1000),
         "unit_price_minor": ln["unit_price"], "amount_minor": ln["amount"],
         "tax_rate": ln["tax_rate"]}
        for n, ln in enumerate(p["lines"], start=1)])
    await conn.execute(sale_tenders.insert(), [
        {"sale_row": sale_row, "tender_no": n, "type": t["type"], "amount_minor": t["amount"],
         "reference": t.get("reference", "")}
        for n, t in enumerate(p["tenders"], start=1)])
