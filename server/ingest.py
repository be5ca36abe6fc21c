"""Applying a pushed batch: one transaction, per the sync contract.

Events at or below the store's high-water mark are skipped (after checking they match what is
held); a gap or a broken hash chain refuses the whole batch; everything else is recorded raw
and projected into the central tables. No authentic event is refused for business reasons.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounting.posting import (
    Accounting,
    default_accounting,
    draft_in_slices,
    mark_stuck,
    plan_posting,
    post_store_events,
    write_planned,
)
from server.errors import ChainBroken, HistoryDiverged, SeqGap
from server.projection import project
from server.reconciliation import check_sales
from server.storage import Storage
from server.storage.bulk import insert_rows, rows_in
from server.storage.tables import store_events, stores
from sync import PushAck, PushBatch, StoreEvent, first_broken_link

log = logging.getLogger(__name__)


async def apply_push(storage: Storage, batch: PushBatch, received_at: datetime,
                     clock_skew_s: int | None = None,
                     accounting: Accounting | None = None) -> PushAck:
    """Apply ``batch``; ``clock_skew_s`` is how far the store's clock is ahead of ours. The
    new events are posted to the books in the same transaction."""
    store_id = batch.store_id
    async with storage.write() as conn:
        row = (await conn.execute(
            sa.select(stores.c.high_water, stores.c.last_hash, stores.c.timezone)
            .where(stores.c.store_id == store_id).with_for_update())).one()
        high_water, last_hash = int(row.high_water), str(row.last_hash)
        old = [e for e in batch.events if e.seq <= high_water]
        new = [e for e in batch.events if e.seq > high_water]
        if old:
            await _check_already_held(conn, store_id, old)
        if new:
            if new[0].seq != high_water + 1:
                raise SeqGap(store_id, high_water + 1, new[0].seq)
            broken = first_broken_link(last_hash, new, payloads_are_canonical=True)
            if broken is not None:
                raise ChainBroken(store_id, broken)
            await _post(conn, new, accounting or default_accounting(),
                        _record(conn, new, received_at, ZoneInfo(row.timezone)))
            high_water, last_hash = new[-1].seq, new[-1].hash
        seen = {"high_water": high_water, "last_hash": last_hash, "last_seen_at": received_at,
                "head_seq": max(high_water, batch.head_seq or 0)}
        if clock_skew_s is not None:
            seen["clock_skew_s"] = clock_skew_s
        await conn.execute(stores.update().where(stores.c.store_id == store_id).values(**seen))
    return PushAck(high_water=high_water, last_hash=last_hash, applied=len(new))


async def _check_already_held(conn: AsyncConnection, store_id: str,
                              events: list[StoreEvent]) -> None:
    held = dict(await rows_in(conn, store_events, ("seq", "hash"), "seq",
                              [e.seq for e in events], store_id=store_id))
    for event in events:
        if held.get(event.seq) != event.hash:
            raise HistoryDiverged(store_id, event.seq)


async def _record(conn: AsyncConnection, events: list[StoreEvent], received_at: datetime,
                  zone: ZoneInfo) -> set[int]:
    """Record the events raw and project them; the seqs of the sales projected."""
    await insert_rows(conn, store_events, [
        {"store_id": e.store_id, "seq": e.seq, "event_id": e.event_id, "kind": e.kind,
         "recorded_at": e.recorded_at, "business_date": date.fromisoformat(e.business_date),
         "payload": e.payload, "hash": e.hash, "received_at": received_at}
        for e in events])
    sale_events = [e for e in events if e.kind == "sale.completed"]
    if sale_events:
        await check_sales(conn, sale_events)
    try:
        async with conn.begin_nested():
            return await project(conn, events, zone)
    except _UNPROJECTABLE:
        # One odd event must not cost the others their projection, nor block the queue:
        # project them one by one and keep (and log) the ones head office cannot project.
        projected: set[int] = set()
        for event in events:
            try:
                async with conn.begin_nested():
                    projected |= await project(conn, [event], zone)
            except _UNPROJECTABLE as exc:
                log.warning("store %s seq %s: %s not projected (%r); raw event kept",
                            event.store_id, event.seq, event.kind, exc)
        return projected


async def _post(conn: AsyncConnection, events: list[StoreEvent], accounting: Accounting,
                recording: Coroutine[Any, Any, set[int]]) -> None:
    """Record the events (``recording``) and post them to the books. What posting reads is
    read first; then the entries are drafted (pure Python, on this thread) while the
    database thread records and projects the events, and written once that is done — the
    two overlap instead of taking turns. Should the cursor not be right behind the events,
    they are recorded first and posted after. A failure the database reports (none is
    expected: the rules check every entry balances) stops the store's posting cursor instead
    of refusing authentic events, and shows as stuck until someone looks."""
    store_id = events[0].store_id
    plan = await plan_posting(conn, store_id, events, accounting)
    if plan is None:
        await recording
        await _write_posting(conn, events, lambda: post_store_events(conn, store_id, events,
                                                                     accounting))
        return
    recorded = asyncio.ensure_future(recording)
    try:
        await draft_in_slices(plan)
    except BaseException:
        await asyncio.wait([recorded])  # never leave it running on the connection
        if not recorded.cancelled():
            recorded.exception()  # seen: the drafting's error is the one to raise
        raise
    projected_sales = await recorded
    await _write_posting(conn, events, lambda: write_planned(conn, plan, projected_sales))


async def _write_posting(conn: AsyncConnection, events: list[StoreEvent],
                         writing: Callable[[], Awaitable[int]]) -> None:
    try:
        async with conn.begin_nested():
            await writing()
    except sa.exc.DBAPIError as exc:
        log.error("store %s: posting seq %s-%s failed: %s", events[0].store_id, events[0].seq,
                  events[-1].seq, exc)
        await mark_stuck(conn, events[0].store_id, events[0].seq, f"database: {exc.orig!r}")


_UNPROJECTABLE = (KeyError, TypeError, ValueError, ArithmeticError, sa.exc.DBAPIError)
