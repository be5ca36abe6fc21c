"""Accounting benchmark: what posting to the books adds to ingest, and the statements over
ten million journal lines — each against a baseline measured in the same run.

    python -m bench.accounting            # 25,000 sales x 5 lines; 10,000,000 journal lines
    python -m bench.accounting --quick    # 2,500 sales; 200,000 journal lines
    python -m bench.accounting --instructions  # 1. on SQLite in instructions (valgrind)

1. **Posting overhead** (SQLite file, then PostgreSQL at 127.0.0.1:5432 in a database made for
   the run). A week's backlog of one store arriving in one sync: an opening-stock receipt
   (with costs) then ``--sales`` ``sale.completed`` events of 5 lines (shaped like the
   agent's; ``bench.server_ingest.sale_payload``), hash chained, encoded as msgpack push
   bodies of 500 events, the agent's default batch (built before timing) — pushed one after
   the other, as the agent does, to the real sync endpoint of the server app, served on a
   loopback port by this process (auth, admission, decoding, the chain check, projection,
   posting, the ack). Timed on fresh databases with posting (the server as it is) and
   without (the ingest's posting step replaced by a no-op in this process: the baseline),
   in ``--repeat`` pairs of runs (5), the two side by side in each pair and which goes
   first alternating from pair to pair. Figure: ``posting_overhead``, the median over the
   pairs of with ÷ without − 1 (target <= 0.50) — on a shared machine whose speed drifts by
   a quarter from minute to minute, the two runs of a pair see the same machine, and the
   median is not moved by one lucky or unlucky run; ``posting_overhead_best`` (best ÷ best
   − 1) and every pair's ratio are printed beside it. Then, on the posted database: the
   trial balance must balance and ``books verify`` must find no difference (its time is
   reported too).
   With ``--instructions`` (SQLite only; valgrind installed): the same pushes of 2,500 sales
   (or ``--sales``) in two processes under callgrind, counting the instructions executed
   during the pushes alone, with posting and without. ``posting_overhead_instructions``:
   with ÷ without − 1. A count, not a time: it does not drift with the machine's speed (two
   runs agree within 0.3 %), so a change of a few per cent shows; it leaves out what the
   clock sees besides work — waiting for the disk, and the database thread working while
   the event loop drafts entries.
2. **Statements over ``--lines`` journal lines** (PostgreSQL). A fresh database migrated by
   ``backoffice server init``; journal lines and entries filled in SQL (balanced 5-line
   entries — revenue, tax, cash, COGS, inventory — over ``--stores`` stores and a year of
   posting dates), the daily running sums built from them by ``GROUP BY`` (what posting keeps
   in step), ``VACUUM ANALYZE``. Then, over HTTP to a real ``backoffice server run`` process:
   the trial balance (whole history), the income statement for one month and the balance
   sheet, ``--requests`` times each. Baseline: the same sums by ``GROUP BY`` over every
   journal line with asyncpg. Ratios report p50 ÷ baseline p50; the trial balance is checked
   against the baseline's sums. Target: trial balance and P&L p99 <= 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from aiohttp import web
from rich.console import Console

from backoffice.demo.processes import free_port
from bench.agent_sales import Figures, print_figures
from bench.central import (
    code_version,
    fresh_postgres_database,
    running_server,
    server_init,
    write_server_config,
)
from bench.reports import summary, timed
from bench.server_ingest import Product, catalog, sale_payload
from config import load_server_settings
from server import create_app, ingest
from server.accounting.posting import default_accounting
from server.accounting.reports import trial_balance
from server.accounting.verify import verify_books
from server.admin import enroll_store, init_database
from server.storage import Storage
from server.storage.tables import catalog_products
from sync import (
    CONTENT_TYPE,
    GENESIS_HASH,
    PUSH_PATH,
    PushBatch,
    StoreEvent,
    chain_hash,
    encode_push,
)
from sync.events import canonical, canonical_event_bytes

BATCH = 500  # the agent's default batch_max_events
FIRST_DAY = date(2026, 11, 16)
TARGET_MS = 500.0
STORE = "S001"


def backlog(sales: int, products: Sequence[Product]) -> list[PushBatch]:
    """The store's week: opening stock, then ``sales`` sales, chained, in push batches."""
    rng = random.Random(20261129)
    events: list[StoreEvent] = []
    previous = GENESIS_HASH

    def add(kind: str, payload: dict[str, Any], day: date, second: int) -> None:
        nonlocal previous
        seq = len(events) + 1
        recorded = f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:" \
                   f"{second % 60:02d}.000000Z"
        body = canonical(payload)
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        digest = chain_hash(previous, canonical_event_bytes(
            STORE, seq, event_id, kind, recorded, day.isoformat(), body,
            payload_is_canonical=True))
        events.append(StoreEvent(store_id=STORE, seq=seq, event_id=event_id, kind=kind,
                                 recorded_at=recorded, business_date=day.isoformat(),
                                 payload=body, hash=digest))
        previous = digest

    add("stock.received", {"receipt_id": "opening", "transfer_id": None,
                           "lines": [{"sku": p.sku, "quantity": "100000",
                                      "unit_cost": p.price_minor // 2} for p in products]},
        FIRST_DAY, 6 * 3600)
    per_day = -(-sales // 7)
    for n in range(sales):
        day = FIRST_DAY + timedelta(days=n // per_day)
        add("sale.completed", sale_payload(rng, products, n + 1, f"T{1 + n % 3}"), day,
            7 * 3600 + (n % per_day) * (12 * 3600 // per_day))
    head = len(events)
    return [PushBatch(store_id=STORE, events=tuple(events[i:i + BATCH]), head_seq=head)
            for i in range(0, len(events), BATCH)]


async def fresh_store(url: str, products: Sequence[Product]) -> str:
    """A migrated database with the catalog (standard costs) and the store; its token."""
    storage = Storage(url)
    try:
        await init_database(storage)
        async with storage.write() as conn:
            await conn.execute(catalog_products.insert(), [
                {"sku": p.sku, "name": p.name, "price_minor": p.price_minor,
                 "tax_rate": p.tax_rate, "barcodes": [], "active": True,
                 "updated_at": datetime.now(UTC), "cost_minor": p.price_minor // 2}
                for p in products])
        return await enroll_store(storage, STORE, "Store", "Europe/Berlin")
    finally:
        await storage.dispose()


async def push_all(url: str, bodies: Sequence[bytes], token: str, post: bool,
                   folder: Path) -> tuple[float, float]:
    """Serve the server app on a loopback port and push ``bodies`` to it in order: the
    seconds it took, and the CPU seconds this process spent (server, client and, on SQLite,
    the database itself: all of it runs here)."""
    port = free_port()
    settings = load_server_settings(write_server_config(
        folder, url, port, "\n[accounting]\nnightly_enabled = false\n"), env={})
    original = ingest._post

    async def no_posting(_conn: Any, _events: Any, _accounting: Any,
                         recording: Awaitable[None]) -> None:
        await recording  # recorded and projected, not posted

    if not post:
        ingest._post = no_posting  # type: ignore[assignment]
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE,
                   "Accept": CONTENT_TYPE}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as client:
            started, cpu = time.perf_counter(), time.process_time()
            for body in bodies:
                async with client.post(f"http://127.0.0.1:{port}{PUSH_PATH}", data=body,
                                       headers=headers) as resp:
                    answer = await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"push answered {resp.status}: {answer[:300]!r}")
            return time.perf_counter() - started, time.process_time() - cpu
    finally:
        ingest._post = original
        await runner.cleanup()


def push_bodies(sales: int) -> tuple[list[Product], list[bytes], int]:
    """The catalog, the backlog's push bodies and how many events they hold. Only the
    encoded bodies are kept: the event objects behind them are the agent's, and holding a
    week of them in this process would make the server's garbage collector (which walks
    every live object on its full passes) pay for the client."""
    products = catalog(500)
    batches = backlog(sales, products)
    bodies = [encode_push(batch) for batch in batches]
    events = sum(len(b.events) for b in batches)
    del batches
    gc.collect()
    return products, bodies, events


async def posting_overhead(backend: str, sales: int, repeat: int, folder: Path,
                           console: Console) -> Figures:
    products, bodies, events = push_bodies(sales)
    figures: Figures = {"backend": backend, "sales": sales, "events": events,
                        "lines_per_sale": 5}
    runs: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    for attempt in range(repeat):
        last = attempt == repeat - 1
        for post in ((False, True) if attempt % 2 == 0 else (True, False)):
            if backend == "sqlite":
                url = f"sqlite:///{folder / f'{attempt}-{post}.db'}"
                token = await fresh_store(url, products)
                seconds, cpu = await push_all(url, bodies, token, post, folder)
            else:
                async with fresh_postgres_database("bench_books") as url:
                    token = await fresh_store(url, products)
                    seconds, cpu = await push_all(url, bodies, token, post, folder)
                    if post and last:
                        figures |= await check_books(url)
            if backend == "sqlite" and post and last:
                figures |= await check_books(url)
            console.print(f"  {backend}: pair {attempt + 1}, posting {'on' if post else 'off'}:"
                          f" {seconds:.2f} s (process CPU {cpu:.2f} s)")
            runs[post].append(seconds)
            cpus[post].append(cpu)
    pairs = overheads(runs)
    figures |= {"ingest_without_posting_s": statistics.median(runs[False]),
                "ingest_with_posting_s": statistics.median(runs[True]),
                "events_per_s_with_posting": events / statistics.median(runs[True]),
                "posting_overhead_per_pair": " / ".join(f"{r:.2f}" for r in pairs),
                "posting_overhead_best": min(runs[True]) / min(runs[False]) - 1,
                "posting_overhead": statistics.median(pairs)}
    if backend == "sqlite":
        # On SQLite the database works in this process, so its CPU time is the whole cost;
        # on PostgreSQL it is not.
        figures["posting_overhead_cpu"] = statistics.median(overheads(cpus))
    return figures


def overheads(runs: dict[bool, list[float]]) -> list[float]:
    """Each pair's with ÷ without − 1."""
    return [on / off - 1 for off, on in zip(runs[False], runs[True], strict=True)]


async def check_books(url: str) -> Figures:
    storage = Storage(url)
    try:
        async with storage.read() as conn:
            rows = await trial_balance(conn, None)
            lines = int((await conn.execute(sa.text("SELECT count(*) FROM journal_lines"))
                         ).scalar_one())
            started = time.perf_counter()
            result = await verify_books(conn, default_accounting().chart)
            verify_s = time.perf_counter() - started
    finally:
        await storage.dispose()
    balanced = sum(r.balance_minor for r in rows) == 0
    if not balanced or not result.ok:
        raise RuntimeError(f"books wrong: balanced={balanced}, differences="
                           f"{result.differences[:5]}")
    return {"journal_lines": lines, "trial_balance_balanced": balanced,
            "verify_s": verify_s, "verify_differences": len(result.differences)}


# --- 2. statements over millions of journal lines ---

def fill_sql(lines: int, stores: int, days: int) -> list[tuple[str, str]]:
    entries = lines // 5
    g_day = f"(DATE '2026-01-01' + ((g - 1) * {days} / {entries})::int)"
    store = f"('S' || lpad((1 + g % {stores})::text, 3, '0'))"
    amount = "(100 + g % 900)"
    rate = "(CASE WHEN g % 2 = 0 THEN 7 ELSE 19 END)"
    tax = f"(({amount} * {rate} + 50) / 100)"
    cost = f"({amount} / 2)"
    return [
        ("journal_lines", f"""
            INSERT INTO journal_lines (entry_key, line_no, account_code, store_id, sub,
                amount_minor, currency, business_date, posted_date)
            SELECT 'E' || g, j,
                (ARRAY['4000', '2100', '1000', '5000', '1200'])[j], {store},
                CASE WHEN j <= 2 THEN {rate}::text ELSE '' END,
                CASE j WHEN 1 THEN -{amount} WHEN 2 THEN -{tax} WHEN 3 THEN {amount} + {tax}
                       WHEN 4 THEN {cost} ELSE -{cost} END,
                'USD', {g_day}, {g_day}
            FROM generate_series(1, {entries}::bigint) AS g
            CROSS JOIN generate_series(1, 5) AS j ORDER BY g, j"""),
        ("journal_entries", f"""
            INSERT INTO journal_entries (entry_key, store_id, source, seq, business_date,
                posted_date, currency, memo, line_count, late, created_at)
            SELECT 'E' || g, {store}, 'sale.completed', g, {g_day}, {g_day}, 'USD',
                'sale.completed', 5, false, now()
            FROM generate_series(1, {entries}::bigint) AS g"""),
        ("ledger_daily", """
            INSERT INTO ledger_daily (account_code, store_id, sub, currency, posted_date,
                debit_minor, credit_minor)
            SELECT account_code, store_id, sub, currency, posted_date,
                sum(GREATEST(amount_minor, 0)), sum(GREATEST(-amount_minor, 0))
            FROM journal_lines GROUP BY account_code, store_id, sub, currency, posted_date"""),
    ]


async def statements(lines: int, stores: int, requests: int, warmup: int, folder: Path,
                     console: Console) -> Figures:
    figures: Figures = {"journal_lines_target": lines, "stores": stores}
    async with fresh_postgres_database("bench_books_tb") as url:
        port = free_port()
        config = write_server_config(folder, url, port,
                                     "\n[accounting]\nnightly_enabled = false\n")
        token = await server_init(config)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("SET synchronous_commit = off")
            await conn.execute("SET session_replication_role = replica")  # skip triggers
            await conn.execute("SET maintenance_work_mem = '512MB'")
            await conn.execute("SET work_mem = '64MB'")
            started = time.perf_counter()
            for name, statement in fill_sql(lines, stores, 365):
                console.print(f"  filling {name} ...")
                step = time.perf_counter()
                await conn.execute(statement)
                figures[f"fill_{name}_s"] = time.perf_counter() - step
            await conn.execute("RESET session_replication_role")
            await conn.execute("VACUUM ANALYZE")
            figures["fill_s"] = time.perf_counter() - started
            for table in ("journal_lines", "journal_entries", "ledger_daily"):
                figures[f"rows_{table}"] = int(await conn.fetchval(
                    f"SELECT count(*) FROM {table}"))
            naive_tb = ("SELECT account_code, sum(amount_minor) FROM journal_lines "
                        "GROUP BY account_code ORDER BY account_code")
            naive_pnl = ("SELECT account_code, sum(amount_minor) FROM journal_lines "
                         "WHERE posted_date >= $1 AND posted_date <= $2 "
                         "AND account_code IN ('4000', '5000') GROUP BY account_code")
            latencies, baseline = await timed(lambda: conn.fetch(naive_tb), warmup, requests)
            figures |= summary("baseline_group_by_lines_tb", latencies)
            latencies, _ = await timed(lambda: conn.fetch(naive_pnl, date(2026, 6, 1),
                                                          date(2026, 6, 30)), warmup, requests)
            figures |= summary("baseline_group_by_lines_pnl_month", latencies)
        finally:
            await conn.close()
        async with running_server(config, port, folder / "server.log") as server:
            headers = {"Authorization": f"Bearer {token}"}
            paths = {"trial_balance": "/api/v1/books/trial-balance",
                     "income_statement_month":
                         "/api/v1/books/income-statement?from=2026-06-01&to=2026-06-30",
                     "balance_sheet": "/api/v1/books/balance-sheet"}
            async with aiohttp.ClientSession(base_url=server.url) as client:
                for name, path in paths.items():
                    async def get(path: str = path) -> Any:
                        async with client.get(path, headers=headers) as resp:
                            if resp.status != 200:
                                raise RuntimeError(f"{path}: {resp.status} {await resp.text()}")
                            return await resp.json()
                    latencies, body = await timed(get, warmup, requests)
                    figures |= summary(name, latencies)
                    if name == "trial_balance":
                        api = {r["code"]: r["balance_minor"] for r in body["items"]}
                        expected = {r[0]: int(r[1]) for r in baseline if int(r[1])}
                        figures["trial_balance_matches_baseline"] = api == expected
                        figures["trial_balance_balanced"] = body["balanced"]
    figures["trial_balance_ratio"] = figures["trial_balance_p50_ms"] / \
        figures["baseline_group_by_lines_tb_p50_ms"]
    figures["income_statement_ratio"] = figures["income_statement_month_p50_ms"] / \
        figures["baseline_group_by_lines_pnl_month_p50_ms"]
    figures["target_ms"] = TARGET_MS
    figures["target_met"] = max(figures["trial_balance_p99_ms"],
                                figures["income_statement_month_p99_ms"]) <= TARGET_MS
    return figures


# --- 1b. the same posting overhead counted in instructions (SQLite, under valgrind) ---

async def instructions_child(sales: int, post: bool) -> None:
    """Run inside callgrind (started with instrumentation off): build the backlog and a fresh
    store, then count only the pushes — instrumentation switched on and off around them."""
    products, bodies, _ = push_bodies(sales)
    with tempfile.TemporaryDirectory(prefix="bench-books-ir-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'books.db'}"
        token = await fresh_store(url, products)
        await _instrumentation("on")
        await push_all(url, bodies, token, post, folder)
        await _instrumentation("off")


async def _instrumentation(state: str) -> None:
    """Switch callgrind's counting in this process on or off (``callgrind_control`` returns
    once the running process has taken the command)."""
    control = await asyncio.create_subprocess_exec(
        "callgrind_control", "-i", state, str(os.getpid()),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    if await control.wait() != 0:
        raise RuntimeError(f"callgrind_control -i {state} failed: not under callgrind?")


def instructions(sales: int, folder: Path, console: Console) -> Figures:
    """The posting overhead in instructions executed (server, client and SQLite, all in one
    process): a count that does not drift with the machine's speed, as the clock does.
    Needs valgrind; the two runs go side by side."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    runs = {}
    for post in (False, True):
        out = folder / f"callgrind-{post}.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--cache-sim=no",
                   f"--callgrind-out-file={out}", sys.executable, "-m", "bench.accounting",
                   "--instructions-child", "--sales", str(sales)] + (["--post"] if post else [])
        runs[post] = (out, subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, text=True))
    counts: dict[bool, int] = {}
    for post, (out, process) in runs.items():
        _, errors = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"callgrind run failed: {errors[-2000:]}")
        totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
        counts[post] = int(totals[0].split()[1])
        console.print(f"  sqlite: posting {'on' if post else 'off'}: {counts[post]:,} "
                      "instructions")
    return {"backend": "sqlite", "sales": sales, "instructions_without_posting": counts[False],
            "instructions_with_posting": counts[True],
            "posting_overhead_instructions": counts[True] / counts[False] - 1}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sales", type=int, default=None,
                        help="Sales in the backlog (25,000; 2,500 with --quick or "
                             "--instructions).")
    parser.add_argument("--repeat", type=int, default=5,
                        help="Pairs of runs (with and without posting).")
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--skip-statements", action="store_true")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both",
                        help="Which database(s) the posting overhead is measured on.")
    parser.add_argument("--instructions", action="store_true",
                        help="Only the posting overhead on SQLite, counted in instructions "
                             "under valgrind's callgrind (2,500 sales unless --sales).")
    parser.add_argument("--instructions-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--post", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions_child:
        await instructions_child(args.sales, args.post)
        return
    if args.quick:
        args.lines, args.requests = 200_000, 10
    if args.sales is None:
        args.sales = 2_500 if args.quick or args.instructions else 25_000
    console = Console()
    console.print(f"code: {code_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-books-") as tmp:
        folder = Path(tmp)
        if args.instructions:
            print_figures(console, "posting overhead in instructions (sqlite)",
                          instructions(args.sales, folder, console))
            return
        backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
        for backend in backends:
            figures = await posting_overhead(backend, args.sales, args.repeat, folder, console)
            print_figures(console, f"posting overhead ({backend})", figures)
        if not args.skip_statements:
            figures = await statements(args.lines, args.stores, args.requests, args.warmup,
                                       folder, console)
            print_figures(console, "statements over journal lines (PostgreSQL)", figures)


if __name__ == "__main__":
    asyncio.run(main())
