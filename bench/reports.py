"""Head-office reports benchmark: the daily-sales-by-store report over a year of sales on
PostgreSQL, through the HTTP API of a real ``backoffice server run`` process, against the same
per-store-per-day totals computed straight from the ``sales`` table in the same run.

    python -m bench.reports            # 10,000,000 sale lines (2,000,000 sales), 50 stores
    python -m bench.reports --quick    # 200,000 sale lines
    python -m bench.reports --lines 1000000 --stores 20 --requests 50

1. A fresh PostgreSQL database (127.0.0.1:5432, dropped at the end), migrated by
   ``backoffice server init`` (which prints the admin token used below), ``--stores`` stores
   enrolled with ``server.admin.enroll_store``.
2. Filled in SQL with ``generate_series`` (not through HTTP): ``--lines`` / 5 sales with 5
   lines and one cash tender each, spread evenly over ``--days`` business days and the stores,
   line amounts and taxes consistent with the sale totals; ``sales_daily`` from
   ``INSERT ... SELECT ... GROUP BY`` over ``sales`` (what ingest keeps in step); then
   ``VACUUM ANALYZE`` (the state autovacuum leaves a loaded table in). Foreign-key triggers are
   skipped during the fill (``session_replication_role = replica``): the rows satisfy them by
   construction. The raw ``store_events`` are not filled: no report reads them.
3. Timed over HTTP, one request at a time, each to its last byte, ``--requests`` times after
   ``--warmup`` untimed ones: ``GET /api/v1/reports/sales-by-store`` for the whole range and
   for one month (``?from=&to=``), and ``GET /api/v1/reports/sales?group_by=product`` for the
   same month (it reads the lines).
4. Baseline, timed the same way with asyncpg: the same per-store-per-day totals by a
   ``GROUP BY`` over every row of ``sales`` (and over the month's), and the product report's
   SQL on its own; also the sales-by-store report's own query (all of ``sales_daily``), to
   tell the database's share of its time from the server's. Ratios ``report p50 ÷ baseline
   p50``; the whole-range report's totals are checked against the baseline's.

The issue's target: the daily-sales-by-store report over 10,000,000 sale lines on PostgreSQL
answers in <= 500 ms (checked here on the whole range's p99).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from rich.console import Console

from backoffice.demo.processes import free_port
from bench.agent_sales import Figures, json_line, percentile, print_figures, rss_mb
from bench.central import (
    code_version,
    fresh_postgres_database,
    running_server,
    server_init,
    write_server_config,
)
from server.admin import enroll_store
from server.storage import Storage

FIRST_DAY = date(2025, 12, 1)
LINES_PER_SALE = 5
PRODUCTS = 2000
TARGET_MS = 500.0

# One sale line of sale g, line j, as SQL over bigints: the product, quantity, price, tax.
PRODUCT = "((g * 7 + j * 131) % {products})"
QUANTITY = "(1 + (g + j) % 3)"
PRICE = "(99 + ({product} * 37) % 900)"
RATE = "(CASE WHEN {product} % 2 = 0 THEN 7 ELSE 19 END)"


def line_sql(products: int) -> dict[str, str]:
    product = PRODUCT.format(products=products)
    price = PRICE.format(product=product)
    amount = f"({QUANTITY} * {price})"
    rate = RATE.format(product=product)
    return {"product": product, "quantity": QUANTITY, "price": price, "amount": amount,
            "rate": rate, "tax": f"(({amount} * {rate} + 50) / 100)"}


def store_sql(stores: int) -> str:
    return f"('S' || lpad((1 + (g - 1) % {stores})::text, 3, '0'))"


async def fill(url: str, stores: int, sales_count: int, days: int,
               console: Console) -> Figures:
    """Sales, lines, tenders and the daily summary in SQL; VACUUM ANALYZE; return the times
    and row counts."""
    per_store = -(-sales_count // stores)
    n = f"((g - 1) / {stores})"  # the sale's number within its store, from 0
    day = f"(DATE '{FIRST_DAY.isoformat()}' + ({n} * {days} / {per_store})::int)"
    hour = f"(7 + {n} % 12)"
    sql = line_sql(PRODUCTS)
    figures: Figures = {}
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET session_replication_role = replica")  # skip FK triggers
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET work_mem = '64MB'")
        steps = {
            "sales": f"""
                INSERT INTO sales (id, sale_id, store_id, seq, terminal_id, receipt_no,
                    business_date, recorded_at, cashier, currency, subtotal_minor, tax_minor,
                    total_minor, change_due_minor, line_count, local_hour)
                SELECT g, md5('sale-' || g)::uuid::text, {store_sql(stores)}, {n} + 1,
                    'T' || (1 + g % 3), {n} + 1, {day},
                    {day}::text || 'T' || lpad({hour}::text, 2, '0') || ':'
                        || lpad((g % 60)::text, 2, '0') || ':00.000000Z',
                    'E' || (100 + g % 7), 'USD', t.subtotal, t.tax, t.subtotal + t.tax,
                    ((t.subtotal + t.tax) / 1000 + 1) * 1000 - (t.subtotal + t.tax),
                    {LINES_PER_SALE}, {hour} + 1
                FROM generate_series(1, {sales_count}::bigint) AS g
                CROSS JOIN LATERAL (
                    SELECT sum({sql['amount']})::bigint AS subtotal,
                           sum({sql['tax']})::bigint AS tax
                    FROM generate_series(1, {LINES_PER_SALE}) AS j) AS t""",
            "sale_lines": f"""
                INSERT INTO sale_lines (sale_row, line_no, sku, name, quantity_milli,
                    unit_price_minor, amount_minor, tax_rate)
                SELECT g, j, (100000 + {sql['product']})::text,
                    'Product ' || {sql['product']}, {sql['quantity']} * 1000, {sql['price']},
                    {sql['amount']}, {sql['rate']}::text
                FROM generate_series(1, {sales_count}::bigint) AS g
                CROSS JOIN generate_series(1, {LINES_PER_SALE}) AS j
                ORDER BY g, j""",
            "sale_tenders": """
                INSERT INTO sale_tenders (sale_row, tender_no, type, amount_minor, reference,
                    net_minor)
                SELECT id, 1, 'cash', total_minor + change_due_minor, '', total_minor
                FROM sales ORDER BY id""",
            "sales_daily": """
                INSERT INTO sales_daily (store_id, business_date, sales_count, subtotal_minor,
                    tax_minor, total_minor, voids_count, voids_minor, returns_count,
                    returns_minor)
                SELECT store_id, business_date, count(*), sum(subtotal_minor),
                    sum(tax_minor), sum(total_minor), 0, 0, 0, 0
                FROM sales GROUP BY store_id, business_date""",
        }
        total = time.perf_counter()
        for name, statement in steps.items():
            console.print(f"  filling {name} ...")
            started = time.perf_counter()
            await conn.execute(statement)
            figures[f"fill_{name}_s"] = time.perf_counter() - started
        await conn.execute("SELECT setval(pg_get_serial_sequence('sales', 'id'), "
                           "(SELECT max(id) FROM sales))")
        await conn.execute("RESET session_replication_role")
        console.print("  VACUUM ANALYZE ...")
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        figures["fill_vacuum_analyze_s"] = time.perf_counter() - started
        figures["fill_s"] = time.perf_counter() - total
        for table in ("stores", "sales", "sale_lines", "sale_tenders", "sales_daily"):
            figures[f"rows_{table}"] = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        first, last = await conn.fetchrow("SELECT min(business_date), max(business_date) "
                                          "FROM sales")
        figures |= {"first_day": first.isoformat(), "last_day": last.isoformat(),
                    "database_mb": int(await conn.fetchval(
                        "SELECT pg_database_size(current_database())")) / 2**20}
        mismatched = await conn.fetchval("""
            SELECT count(*) FROM sales s JOIN (
                SELECT sale_row, sum(amount_minor) AS amount FROM sale_lines GROUP BY sale_row
            ) l ON l.sale_row = s.id WHERE l.amount <> s.subtotal_minor""")
        if mismatched:
            raise RuntimeError(f"{mismatched} sales whose lines do not add up to the subtotal")
    finally:
        await conn.close()
    return figures


async def timed(call: Callable[[], Awaitable[Any]], warmup: int,
                requests: int) -> tuple[list[float], Any]:
    """``warmup`` untimed calls, then ``requests`` timed ones; the latencies (ms) and the
    last result."""
    result = None
    for _ in range(warmup):
        result = await call()
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        result = await call()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, result


def summary(prefix: str, latencies: list[float]) -> Figures:
    return {f"{prefix}_p50_ms": percentile(latencies, 50),
            f"{prefix}_p99_ms": percentile(latencies, 99),
            f"{prefix}_max_ms": max(latencies)}


async def http_figures(base: str, token: str, month: tuple[str, str], warmup: int,
                       requests: int) -> tuple[Figures, list[dict[str, Any]]]:
    headers = {"Authorization": f"Bearer {token}"}
    month_query = f"from={month[0]}&to={month[1]}"
    paths = {
        "report_by_store_all": "/api/v1/reports/sales-by-store",
        "report_by_store_month": f"/api/v1/reports/sales-by-store?{month_query}",
        "report_by_product_month": f"/api/v1/reports/sales?group_by=product&{month_query}",
    }
    figures: Figures = {}
    whole: list[dict[str, Any]] = []
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(base_url=base, timeout=timeout) as client:
        for name, path in paths.items():
            async def get(path: str = path) -> bytes:
                async with client.get(path, headers=headers) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"GET {path}: HTTP {resp.status}: {body[:300]!r}")
                    return body
            latencies, body = await timed(get, warmup, requests)
            async with client.get(path, headers=headers) as resp:
                items = (await resp.json())["items"]
            if name == "report_by_store_all":
                whole = items
            figures |= {**summary(name, latencies), f"{name}_rows": len(items),
                        f"{name}_kb": len(body) / 1024}
    return figures, whole


async def sql_figures(url: str, month: tuple[str, str], warmup: int,
                      requests: int) -> tuple[Figures, list[Any]]:
    by_day = ("SELECT store_id, business_date, count(*) AS sales_count, "
              "sum(subtotal_minor) AS subtotal_minor, sum(tax_minor) AS tax_minor, "
              "sum(total_minor) AS total_minor FROM sales {where}"
              "GROUP BY store_id, business_date ORDER BY store_id, business_date")
    by_product = ("SELECT l.sku, max(l.name), count(DISTINCT s.id), sum(l.quantity_milli), "
                  "sum(l.amount_minor) FROM sales s JOIN sale_lines l ON l.sale_row = s.id "
                  "WHERE s.business_date >= $1 AND s.business_date <= $2 "
                  "GROUP BY l.sku ORDER BY l.sku")
    start, end = date.fromisoformat(month[0]), date.fromisoformat(month[1])
    figures: Figures = {}
    conn = await asyncpg.connect(url)
    try:
        latencies, whole = await timed(lambda: conn.fetch(by_day.format(where="")), warmup,
                                       requests)
        figures |= summary("baseline_group_by_all", latencies)
        figures["baseline_group_by_all_rows"] = len(whole)
        where = "WHERE business_date >= $1 AND business_date <= $2 "
        latencies, rows = await timed(lambda: conn.fetch(by_day.format(where=where), start,
                                                         end), warmup, requests)
        figures |= summary("baseline_group_by_month", latencies)
        figures["baseline_group_by_month_rows"] = len(rows)
        latencies, rows = await timed(lambda: conn.fetch(
            "SELECT * FROM sales_daily ORDER BY store_id, business_date"), warmup, requests)
        figures |= summary("sql_sales_daily_all", latencies)  # the report's own query
        latencies, rows = await timed(lambda: conn.fetch(by_product, start, end), warmup,
                                      requests)
        figures |= summary("sql_by_product_month", latencies)
        plan = await conn.fetch("EXPLAIN " + by_product, start, end)
        figures["sql_by_product_month_plan"] = " / ".join(
            r[0].strip() for r in plan if "->" in r[0] or "Aggregate" in r[0])[:400]
    finally:
        await conn.close()
    return figures, whole


def matches(items: list[dict[str, Any]], rows: list[Any]) -> bool:
    """The report's count and total per store and day equal the GROUP BY's."""
    report = {(i["store_id"], i["business_date"]): (i["count"], i["total_minor"])
              for i in items}
    direct = {(r["store_id"], r["business_date"].isoformat()):
              (r["sales_count"], r["total_minor"]) for r in rows}
    return report == direct


async def main() -> None:
    parser = argparse.ArgumentParser(
        description="Head-office reports on PostgreSQL over HTTP against a GROUP BY over the "
                    "sales table.")
    parser.add_argument("--lines", type=int, default=10_000_000, help="sale lines to fill")
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--days", type=int, default=365, help="business days to spread over")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per report")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200,000 lines")
    args = parser.parse_args()
    if args.quick:
        args.lines = 200_000
    sales_count = args.lines // LINES_PER_SALE
    if sales_count < args.stores or not 1 <= args.stores <= 999 or args.days < 31 \
            or args.requests < 1 or args.warmup < 0:
        parser.error("need 1-999 stores, at least 5 lines per store, 31 days or more, "
                     "requests >= 1")

    console = Console()
    run_started = time.perf_counter()
    code = code_version()
    middle = FIRST_DAY + timedelta(days=args.days // 2)
    first = middle.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    month = (first.isoformat(), last.isoformat())
    figures: Figures = {"lines_requested": args.lines, "stores": args.stores,
                        "days": args.days, "month": f"{month[0]}..{month[1]}",
                        "requests": args.requests, "warmup": args.warmup}
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        folder = Path(tmp)
        async with fresh_postgres_database("bench_reports") as url:
            port = free_port()
            config = write_server_config(folder, url, port)
            token = await server_init(config)
            if token is None:
                raise RuntimeError("backoffice server init printed no admin token")
            storage = Storage(url)
            try:
                for n in range(1, args.stores + 1):
                    await enroll_store(storage, f"S{n:03d}", f"Store {n}", "Europe/Berlin")
            finally:
                await storage.dispose()
            console.print(f"filling {sales_count:,} sales x {LINES_PER_SALE} lines over "
                          f"{args.days} days and {args.stores} stores ...")
            filled = await fill(url, args.stores, sales_count, args.days, console)
            print_figures(console, "the fill (SQL, generate_series)", filled)
            figures |= filled

            console.print("timing the reports over HTTP ...")
            async with running_server(config, port, folder / "server.log") as server:
                http, whole = await http_figures(f"http://127.0.0.1:{port}", token, month,
                                                 args.warmup, args.requests)
                http["server_rss_mb"] = rss_mb(server.process.pid)
                http["server_peak_rss_mb"] = rss_mb(server.process.pid, "VmHWM")
            console.print("timing the baseline (asyncpg, straight from sales) ...")
            direct, rows = await sql_figures(url, month, args.warmup, args.requests)
    timings: Figures = {
        **http, **direct,
        "report_matches_group_by": matches(whole, rows),
        "report_all_vs_baseline_p50": float(http["report_by_store_all_p50_ms"])
        / float(direct["baseline_group_by_all_p50_ms"]),
        "report_month_vs_baseline_p50": float(http["report_by_store_month_p50_ms"])
        / float(direct["baseline_group_by_month_p50_ms"]),
        "report_by_product_vs_sql_p50": float(http["report_by_product_month_p50_ms"])
        / float(direct["sql_by_product_month_p50_ms"]),
        "target_ms": TARGET_MS,
        "target_met": float(http["report_by_store_all_p99_ms"]) <= TARGET_MS,
    }
    print_figures(console, f"reports over {filled['rows_sale_lines']:,} sale lines",
                  timings)
    figures |= timings
    print(json_line({"benchmark": "reports", "cpus": os.cpu_count() or 0,
                     "quick": args.quick, "code": code, **figures,
                     "wall_total_s": time.perf_counter() - run_started}), flush=True)
    if not figures["report_matches_group_by"]:
        raise SystemExit("the sales-by-store report does not match the GROUP BY over sales")


if __name__ == "__main__":
    asyncio.run(main())
