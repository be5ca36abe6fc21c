"""Payroll benchmark: a biweekly pay run for ``--employees`` hourly employees across
``--stores`` stores, from a period's punches to the posted journal.

    python -m bench.payroll                    # 5,000 employees, 200 stores, ~300,000 punches
    python -m bench.payroll --quick            # 500 employees, 20 stores
    python -m bench.payroll --backend sqlite   # or postgresql (default), or both

Set-up (not timed): a database migrated by ``init_database``; the stores (US time zones, a
fifth in California), the employees with pay profiles (Form W-4s of every filing status,
half with a 401(k) percentage, a fifth with a health premium), $15-$40 hourly rates and a
biweekly schedule; then each employee's punches for the two workweeks — ten workdays of
in, two breaks, out (six punches a day, so 5,000 employees make 300,000 punches), some days
long enough for overtime — inserted into ``time_punches`` as ingest projects them.

Timed, as head office runs it: (1) the nightly closing of the two workweeks' timesheets,
(2) approving every clean timesheet of both weeks, (3) drafting the pay run (every paycheck
computed: overtime by rule set, Worksheet 1A, FICA/FUTA with year-to-date, deductions),
(4) approving it (every paycheck recomputed and compared), (5) posting its journal. Target:
(1)-(5) <= 30 s. Baseline in the same run: one plain SELECT of the period's punches (the
least any run must read). Memory: the Python heap's peak during (1)-(5) (tracemalloc), per
employee, at the requested size and at a fifth of it — equal figures mean memory grows
with the run's own rows only.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rich.console import Console

from bench.agent_sales import Figures, print_figures
from bench.central import code_version, fresh_postgres_database
from config.settings import PayrollSettings
from server.accounting.chart import load_chart
from server.accounting.posting import sync_chart
from server.admin import init_database
from server.payroll.overtime import load_overtime_rules
from server.payroll.paycheck import load_deduction_kinds
from server.payroll.runs import PayrollContext, approve_run, create_run, post_run
from server.payroll.timekeeping import approve_clean_weeks, close_weeks
from server.storage import Storage
from server.storage.tables import (
    employee_deductions,
    employee_pay,
    employees,
    journal_lines,
    pay_rates,
    pay_schedules,
    stores,
    time_punches,
)

PERIOD_START = date(2026, 11, 2)  # a Monday: two workweeks, 11-02 .. 11-15
ZONES = ("America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York")
STATUSES = ("single", "married_jointly", "head_of_household")


async def populate(storage: Storage, employee_count: int, store_count: int) -> int:
    rng = random.Random(20261129)
    now = datetime.now(UTC)
    async with storage.write() as conn:
        await sync_chart(conn, load_chart())
        await conn.execute(stores.insert(), [
            {"store_id": f"S{n:03d}", "name": f"Store {n}", "timezone": ZONES[n % 4],
             "token_hash": f"{n:064d}", "enrolled_at": now, "high_water": 0,
             "last_hash": "0" * 64} for n in range(store_count)])
        await conn.execute(pay_schedules.insert().values(
            code="BW", frequency="biweekly", anchor=PERIOD_START, pay_lag_days=5,
            created_at=now))
        people, profiles, rates, cuts, punches = [], [], [], [], []
        for n in range(employee_count):
            employee_id = f"E{n:05d}"
            store = n % store_count
            people.append({"employee_id": employee_id, "name": f"Employee {n}",
                           "role": "cashier", "pin_hash": "x", "active": True,
                           "updated_at": now})
            profiles.append({
                "employee_id": employee_id, "pay_type": "hourly",
                "home_store_id": f"S{store:03d}",
                "work_state": "CA" if store % 5 == 0 else "TX", "schedule_code": "BW",
                "w4": {"filing_status": STATUSES[n % 3], "step2_checkbox": n % 7 == 0,
                       "dependents_credit": 2000_00 if n % 4 == 0 else 0,
                       "other_income": 0, "deductions": 0, "extra_withholding": 0,
                       "exempt": False},
                "bank_sealed": None, "bank_masked": None, "updated_at": now})
            rates.append({"employee_id": employee_id, "effective_from": date(2026, 1, 1),
                          "rate_minor": rng.randrange(15_00, 40_00, 25), "created_by": "bench",
                          "created_at": now})
            if n % 2 == 0:
                cuts.append({"employee_id": employee_id, "position": 0, "kind": "401k",
                             "amount_minor": None, "percent": "5", "annual_cap_minor": None})
            if n % 5 == 0:
                cuts.append({"employee_id": employee_id, "position": 1, "kind": "health",
                             "amount_minor": 45_00, "percent": None,
                             "annual_cap_minor": None})
            zone = ZoneInfo(ZONES[store % 4])
            for day in (d for d in range(14) if d % 7 < 5):
                workday = PERIOD_START + timedelta(days=day)
                start = datetime.combine(workday, clock_time(8 + n % 3), zone)
                hours = 8 + (1 if rng.random() < 0.3 else 0) + (1 if rng.random() < 0.1 else 0)
                marks = (("in", 0), ("break_start", 150), ("break_end", 165),
                         ("break_start", 240), ("break_end", 270), ("out", hours * 60 + 45))
                for index, (action, minute) in enumerate(marks):
                    at = (start + timedelta(minutes=minute)).astimezone(UTC)
                    punches.append({"punch_id": f"{employee_id}-{day}-{index}",
                                    "store_id": f"S{store:03d}", "seq": len(punches) + 1,
                                    "employee_id": employee_id, "action": action,
                                    "recorded_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                    "business_date": workday})
        for table, rows in ((employees, people), (employee_pay, profiles),
                            (pay_rates, rates), (employee_deductions, cuts),
                            (time_punches, punches)):
            for start in range(0, len(rows), 2000):
                await conn.execute(table.insert(), rows[start:start + 2000])
    return len(punches)


async def run_payroll(storage: Storage, ctx: PayrollContext) -> dict[str, float]:
    steps: dict[str, float] = {}
    today = PERIOD_START + timedelta(days=15)

    async def step(name: str, work: Any) -> Any:
        started = time.perf_counter()
        async with storage.write() as conn:
            result = await work(conn)
        steps[name] = time.perf_counter() - started
        return result

    await step("close_timesheets_s", lambda c: close_weeks(
        c, ctx.rules, ctx.first_weekday, today, lookback_weeks=2))

    async def approve_both(conn: Any) -> None:
        for week in (PERIOD_START, PERIOD_START + timedelta(days=7)):
            _, left = await approve_clean_weeks(conn, week, None, ctx.rules, ctx.first_weekday,
                                                "bench manager", today)
            assert not left, left[:3]

    await step("approve_timesheets_s", approve_both)
    run_id = await step("draft_run_s", lambda c: create_run(
        c, ctx, {"schedule": "BW", "period_start": PERIOD_START.isoformat()}, "bench", today))
    await step("approve_run_s", lambda c: approve_run(c, ctx, run_id, "bench payroll"))
    await step("post_run_s", lambda c: post_run(c, ctx, run_id, "bench payroll"))
    async with storage.read() as conn:
        total = (await conn.execute(sa.select(sa.func.coalesce(sa.func.sum(
            journal_lines.c.amount_minor), 0)).where(
            journal_lines.c.entry_key.like(f"payroll:{run_id}:%")))).scalar_one()
        entries = (await conn.execute(sa.select(sa.func.count(sa.distinct(
            journal_lines.c.entry_key))).where(
            journal_lines.c.entry_key.like(f"payroll:{run_id}:%")))).scalar_one()
    if total != 0:
        raise RuntimeError(f"payroll journal does not balance: {total}")
    steps["journal_entries"] = int(entries)
    return steps


async def baseline_read(storage: Storage) -> float:
    started = time.perf_counter()
    async with storage.read() as conn:
        rows = (await conn.execute(sa.select(time_punches))).all()
    assert rows
    return time.perf_counter() - started


async def measure(url: str, employee_count: int, store_count: int,
                  with_memory: bool) -> Figures:
    storage = Storage(url)
    try:
        await init_database(storage)
        punches = await populate(storage, employee_count, store_count)
        ctx = PayrollContext(load_overtime_rules(), load_deduction_kinds(), load_chart(),
                             PayrollSettings().workweek_start)
        baseline = await baseline_read(storage)
        if with_memory:
            tracemalloc.start()
        started = time.perf_counter()
        steps = await run_payroll(storage, ctx)
        total = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if with_memory else 0
        if with_memory:
            tracemalloc.stop()
    finally:
        await storage.dispose()
    figures: Figures = {"employees": employee_count, "stores": store_count,
                        "punches": punches, **steps, "total_s": total,
                        "baseline_select_punches_s": baseline,
                        "total_over_baseline": total / baseline}
    if with_memory:
        figures |= {"peak_heap_mb": peak / 2**20,
                    "peak_heap_kb_per_employee": peak / 1024 / employee_count}
    return figures


async def main_async(args: argparse.Namespace) -> None:
    console = Console(stderr=True)
    console.print(f"code: {code_version()}")
    employees_n, stores_n = (500, 20) if args.quick else (args.employees, args.stores)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    import tempfile
    from pathlib import Path

    for backend in backends:
        # timed without tracemalloc (it slows Python down); then the heap's peak at the full
        # size and at a fifth of it
        runs = [(employees_n, stores_n, False)]
        if not args.skip_memory:
            runs += [(employees_n, stores_n, True),
                     (max(employees_n // 5, 1), max(stores_n // 5, 1), True)]
        for count, store_count, with_memory in runs:
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as folder:
                    figures = await measure(f"sqlite:///{Path(folder) / 'payroll.db'}",
                                            count, store_count, with_memory)
            else:
                async with fresh_postgres_database("bench_payroll") as url:
                    figures = await measure(url, count, store_count, with_memory)
            what = "heap" if with_memory else "time"
            print_figures(console, f"payroll run ({backend}, {count} employees, {what})",
                          {"backend": backend, "measured": what, **figures})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--skip-memory", action="store_true",
                        help="only the timed run (the heap runs take three times as long)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"],
                        default="postgresql")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
