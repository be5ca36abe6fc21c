"""The books' nightly job, on the server's APScheduler (3.11): post anything pending, close
the business day of every store whose day-closed event (after its Z reports) has arrived,
verify the books against the raw events, and record what the run did in ``job_runs`` — last
run, duration, outcome, differences found — which the API shows (``GET
/api/v1/books/jobs``).

With several server processes on one database, each fires the job at the same moment; the run
row's unique (job, slot) key lets exactly one of them through and the others skip that slot.
The slot is the scheduled moment itself (the night's date, or the interval boundary for a
job that runs every few seconds in tests and demos).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import AccountingSettings
from server.accounting.posting import Accounting, post_stores
from server.accounting.verify import verify_books
from server.storage import Storage
from server.storage.tables import (
    job_runs,
    journal_lines,
    posting_cursors,
    store_days,
    store_events,
    stores,
)

log = logging.getLogger(__name__)
NIGHTLY = "books.nightly"
RUNNER = f"{socket.gethostname()}:{os.getpid()}"


async def claim(storage: Storage, job: str, slot: str) -> int | None:
    """Start the run of ``job`` for ``slot``; None when another process already has it."""
    try:
        async with storage.write() as conn:
            return int((await conn.execute(job_runs.insert().values(
                job=job, slot=slot, runner=RUNNER, started_at=datetime.now(UTC),
                outcome="running").returning(job_runs.c.id))).scalar_one())
    except sa.exc.IntegrityError:
        return None


async def run_nightly(storage: Storage, accounting: Accounting,
                      slot: str) -> dict[str, Any] | None:
    """One nightly run for ``slot`` (None when another process ran it)."""
    run_id = await claim(storage, NIGHTLY, slot)
    if run_id is None:
        log.info("nightly books job %s: already run by another process", slot)
        return None
    started = datetime.now(UTC)
    detail: dict[str, Any] = {}
    outcome = "failed"
    try:
        detail["posted"] = await _post_everything(storage, accounting)
        detail["days_closed"] = await close_store_days(storage, accounting)
        async with storage.read() as conn:
            result = await verify_books(conn, accounting.chart)
        detail.update(events=result.events, entries=result.entries,
                      differences=len(result.differences),
                      first_differences=result.differences[:20])
        outcome = "ok" if result.ok else "differences"
    except Exception as exc:  # the run is recorded as failed, with why; the server goes on
        log.exception("nightly books job %s failed", slot)
        detail["error"] = repr(exc)[:500]
    await finish(storage, run_id, started, outcome, detail)
    log.info("nightly books job %s: %s %s", slot, outcome, detail)
    return {"outcome": outcome, **detail}


async def finish(storage: Storage, run_id: int, started: datetime, outcome: str,
                 detail: dict[str, Any]) -> None:
    """Record how a claimed job run ended: when, its outcome, what it did and how long."""
    finished = datetime.now(UTC)
    detail["seconds"] = round((finished - started).total_seconds(), 3)
    async with storage.write() as conn:
        await conn.execute(job_runs.update().where(job_runs.c.id == run_id).values(
            finished_at=finished, outcome=outcome, detail=detail))


async def _post_everything(storage: Storage, accounting: Accounting) -> dict[str, Any]:
    async with storage.read() as conn:
        behind = [r.store_id for r in await conn.execute(
            sa.select(stores.c.store_id).select_from(stores.outerjoin(
                posting_cursors, posting_cursors.c.store_id == stores.c.store_id)).where(
                sa.or_(posting_cursors.c.posted_through.is_(None),
                       posting_cursors.c.posted_through < stores.c.high_water,
                       posting_cursors.c.stuck_seq.is_not(None))))]
    posted, failed = await post_stores(storage, accounting, behind)
    return {**posted, **{store_id: f"failed: {why}"[:300] for store_id, why in failed.items()}}


async def close_store_days(storage: Storage, accounting: Accounting) -> int:
    """Record each store day whose ``business_day.closed`` event is posted, with the day's
    figures as the books hold them (net sales, tax, cash) — once."""
    async with storage.write() as conn:
        candidates = list(await conn.execute(
            sa.select(store_events.c.store_id, store_events.c.seq,
                      store_events.c.business_date)
            .join(posting_cursors, posting_cursors.c.store_id == store_events.c.store_id)
            .outerjoin(store_days, sa.and_(
                store_days.c.store_id == store_events.c.store_id,
                store_days.c.business_date == store_events.c.business_date))
            .where(store_events.c.kind == "business_day.closed",
                   store_events.c.seq <= posting_cursors.c.posted_through,
                   store_days.c.store_id.is_(None))))
        chart = accounting.chart
        roles = {chart.code(r): r for r in ("revenue", "discounts", "returns", "sales_tax",
                                            "cash")}
        now = datetime.now(UTC)
        for row in candidates:
            sums = {r.account_code: int(r.amount) for r in await conn.execute(
                sa.select(journal_lines.c.account_code,
                          sa.func.sum(journal_lines.c.amount_minor).label("amount"))
                .where(journal_lines.c.store_id == row.store_id,
                       journal_lines.c.business_date == row.business_date,
                       journal_lines.c.account_code.in_(list(roles)))
                .group_by(journal_lines.c.account_code))}
            figures = {
                "net_sales_minor": -sum(v for k, v in sums.items()
                                        if roles[k] in ("revenue", "discounts", "returns")),
                "tax_minor": -sums.get(chart.code("sales_tax"), 0),
                "cash_minor": sums.get(chart.code("cash"), 0)}
            await conn.execute(store_days.insert().values(
                store_id=row.store_id, business_date=row.business_date, closed_seq=row.seq,
                closed_at=now, figures=figures))
    return len(candidates)


def interval_slot(now: datetime, seconds: int) -> str:
    """The interval boundary nearest ``now``: the same in every process that fired for it."""
    return str(round(now.timestamp() / seconds) * seconds)


@contextlib.asynccontextmanager
async def nightly_scheduler(storage: Storage, accounting: Accounting,
                            settings: AccountingSettings,
                            then: Sequence[Callable[[str], Awaitable[Any]]] = (),
                            ) -> AsyncIterator[AsyncIOScheduler]:
    """Run the nightly job while the server runs: at ``nightly_at`` UTC every day, or every
    ``nightly_interval_seconds`` when that is set (tests, demos); ``then``: jobs run after it
    with the same slot (payroll's), each claiming the slot for itself."""

    async def run_all(slot: str) -> None:
        await run_nightly(storage, accounting, slot)
        for job in then:
            try:
                await job(slot)
            except Exception:  # one job's failure never stops the next night
                log.exception("nightly job after the books failed")

    scheduler = AsyncIOScheduler(timezone=UTC)
    if settings.nightly_interval_seconds:
        seconds = settings.nightly_interval_seconds
        epoch = datetime(2000, 1, 1, tzinfo=UTC)

        async def every_interval() -> None:
            await run_all(interval_slot(datetime.now(UTC), seconds))

        scheduler.add_job(every_interval, IntervalTrigger(seconds=seconds, start_date=epoch),
                          id=NIGHTLY, max_instances=1, coalesce=True,
                          misfire_grace_time=seconds)
    else:
        hour, minute = (int(part) for part in settings.nightly_at.split(":"))

        async def nightly() -> None:
            night = datetime.now(UTC) + timedelta(minutes=30)  # the slot is the night's date
            await run_all(night.date().isoformat())

        scheduler.add_job(nightly, CronTrigger(hour=hour, minute=minute, timezone=UTC),
                          id=NIGHTLY, max_instances=1, coalesce=True, misfire_grace_time=3600)
    if settings.nightly_enabled:
        scheduler.start()
    try:
        yield scheduler
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)
