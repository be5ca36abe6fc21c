"""Payroll's nightly job (run after the books' one, on the same scheduler and slot): close the
timesheets of workweeks that ended (their figures and exceptions stored, ready for managers to
approve) and draft the pay run of every schedule period that ended and has no run yet — or
record why it cannot be drafted yet (timesheets still to approve). Once per slot across
server processes, like the books' job (a ``job_runs`` row per job and slot)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from server.accounting.nightly import claim, finish
from server.payroll.runs import PayrollContext, create_run, schedule_from_row
from server.payroll.schedule import period_of
from server.payroll.timekeeping import PayrollRefusal, close_weeks, today_everywhere
from server.storage import Storage
from server.storage.tables import pay_runs, pay_schedules

log = logging.getLogger(__name__)
PAYROLL_NIGHTLY = "payroll.nightly"


async def run_payroll_nightly(storage: Storage, ctx: PayrollContext, slot: str,
                              today: date | None = None) -> dict[str, Any] | None:
    """One run for ``slot`` (None when another process ran it); ``today`` for tests."""
    run_id = await claim(storage, PAYROLL_NIGHTLY, slot)
    if run_id is None:
        return None
    started = datetime.now(UTC)
    today = today or today_everywhere(started)
    detail: dict[str, Any] = {"drafted": [], "waiting": []}
    outcome = "failed"
    try:
        async with storage.write() as conn:
            detail["timesheets_closed"] = await close_weeks(conn, ctx.rules, ctx.first_weekday,
                                                            today)
        async with storage.read() as conn:
            schedules = [schedule_from_row(r) for r in await conn.execute(
                sa.select(pay_schedules))]
        for schedule in schedules:
            try:
                period = period_of(schedule, today - timedelta(days=1))
                if period.end >= today:  # the period holding yesterday has not ended
                    period = period_of(schedule, period.start - timedelta(days=1))
            except ValueError as exc:  # no bank holidays for the pay date's year yet
                detail["waiting"].append({"schedule": schedule.code, "why": str(exc)})
                continue
            async with storage.write() as conn:
                held = (await conn.execute(sa.select(pay_runs.c.run_id).where(
                    pay_runs.c.regular_key == f"{schedule.code}:{period.start}"))).first()
                if held is not None:
                    continue
                try:
                    drafted = await create_run(conn, ctx, {
                        "schedule": schedule.code, "period_start": period.start.isoformat()},
                        "nightly job", today)
                    detail["drafted"].append(drafted)
                except PayrollRefusal as exc:
                    detail["waiting"].append({"schedule": schedule.code,
                                              "period_start": period.start.isoformat(),
                                              "why": exc.detail})
        outcome = "ok"
    except Exception as exc:  # recorded as failed, with why; the server goes on
        log.exception("nightly payroll job %s failed", slot)
        detail["error"] = repr(exc)[:500]
    await finish(storage, run_id, started, outcome, detail)
    return {"outcome": outcome, **detail}
