"""Store agent benchmark: sales through the POS API, the ledger alone against raw SQLite, and
barcode lookups in a big ledger. Prints rich tables and, last, one JSON line for scripts.

    python -m bench.agent_sales            # the figures in docs/benchmarks.md
    python -m bench.agent_sales --quick    # a smoke run in well under a minute

1. HTTP: a real ``backoffice agent run`` process on a free loopback port, a fresh ledger
   (``agent init`` + ``agent import-catalog``), one cash session per terminal, then
   ``--terminals`` aiohttp clients posting 5-line cash sales: closed loop (each terminal posts
   its next sale when the last is answered), then open loop at ``--rate`` sales/s offered,
   latencies counted from each sale's scheduled send time (no coordinated omission).
2. The ledger alone, in-process: ``record_sale`` N times, each its own durable
   ``BEGIN IMMEDIATE`` transaction, against raw SQLite inserting the very same event rows into
   a fresh WAL file with ``synchronous=FULL`` — once with one ``executemany`` transaction, once
   with a commit per row (the honest durable-per-sale peer).
3. Scale: ``--products`` products with one EAN-13 each and ``--events`` sale events (hash
   chained, through ``append_event`` in 10,000-event transactions while it keeps within the
   time budget, then raw chained rows via ``executemany``), then ``find_by_barcode`` on 10,000
   random barcodes.

Every ratio is against a baseline measured in the same run, because this machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table
from sqlite_utils import Database
from stdnum import ean

from backoffice.demo.processes import free_port, run_command, start_service, stop_service
from config import load_agent_settings
from store_agent.app import store_context
from store_agent.cash import open_session
from store_agent.catalog import find_by_barcode, import_catalog_csv
from store_agent.clock import utc_text
from store_agent.ledger import append_event, connect, create_ledger
from store_agent.sales import record_sale
from sync.events import canonical, canonical_event_bytes, chain_hash

STORE_ID = "B001"
TERMINAL_TOKEN = "bench-terminal-token-{}"
HTTP_CATALOG_PRODUCTS = 300
WARMUP_SALES_PER_TERMINAL = 10
LOOKUPS = 10_000
EVENT_CHUNK = 10_000
APPEND_BUDGET_SECONDS = 180.0
TARGET_PACED_P99_MS = 15.0
TARGET_LOOKUP_P99_US = 1000.0
EVENTS_COLUMNS = "seq, event_id, kind, recorded_at, business_date, payload, hash"

Figure = float | int | str | bool
Figures = dict[str, Figure]


# --- small helpers (print_figures, rss_mb and write_catalog are shared with sync_backlog) ---

def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * pct / 100) - 1))]


def rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """Resident memory of a process in MiB (``VmHWM`` for its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def files_mb(folder: Path, pattern: str) -> float:
    return sum(p.stat().st_size for p in folder.glob(pattern)) / 2**20


def gtin(n: int) -> str:
    """A valid EAN-13 (GS1 prefix 400) for product number ``n``."""
    body = f"400{n:09d}"
    return body + ean.calc_check_digit(body)


def write_config(folder: Path, port: int, terminals: int) -> Path:
    tokens = "\n".join(f'T{n} = "{TERMINAL_TOKEN.format(n)}"' for n in range(1, terminals + 1))
    path = folder / "store.toml"
    path.write_text(f'[store]\nid = "{STORE_ID}"\ntimezone = "UTC"\n\n[head_office]\n'
                    f'url = "http://127.0.0.1:9"\nsync_token = "bos_{"x" * 40}"\n\n'
                    f'[terminals]\n{tokens}\n\n[http]\nport = {port}\n\n'
                    f'[sync]\nenabled = false\n\n[logging]\nlevel = "warning"\n',
                    encoding="utf-8")
    return path


def write_catalog(path: Path, products: int) -> list[str]:
    """A catalog CSV of ``products`` products with one EAN-13 each; returns the SKUs."""
    rows, skus = ["sku,name,price,tax_rate,barcodes"], []
    for n in range(products):
        sku = f"{100000 + n}"
        rows.append(f"{sku},Product {n},{1 + n % 50}.{n % 100:02d},{(7, 19)[n % 2]},{gtin(n)}")
        skus.append(sku)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return skus


def sale_body(rng: random.Random, skus: list[str]) -> dict[str, Any]:
    return {"sale_id": str(uuid.uuid4()), "cashier": "E1",
            "lines": [{"sku": sku, "quantity": "1"} for sku in rng.sample(skus, 5)],
            "tenders": [{"type": "cash", "amount": "1000.00"}]}


def session_body() -> dict[str, Any]:
    return {"session_id": f"bench-{uuid.uuid4().hex[:12]}", "employee": "E1", "float": "100.00"}


def _format(value: Figure) -> str:
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def figures_table(title: str, figures: Figures) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, _format(value))
    return table


def json_line(figures: Figures) -> str:
    return json.dumps({k: round(v, 4) if isinstance(v, float) else v
                       for k, v in figures.items()}, separators=(",", ":"))


def print_figures(console: Console, title: str, figures: Figures) -> None:
    """A table for people, then one JSON line for scripts."""
    console.print(figures_table(title, figures))
    print(json_line(figures), flush=True)


# --- 1. sales through the HTTP API of a real agent process ---

async def _post_sale(client: aiohttp.ClientSession, terminal: int,
                     body: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {TERMINAL_TOKEN.format(terminal)}"}
    async with client.post("/api/v1/sales", json=body, headers=headers) as resp:
        text = await resp.text()
        if resp.status != 201:
            raise RuntimeError(f"sale on T{terminal}: HTTP {resp.status}: {text[:300]}")


async def http_figures(folder: Path, terminals: int, sales: int, rate: float,
                       rate_seconds: float) -> Figures:
    port = free_port()
    config = write_config(folder, port, terminals)
    skus = write_catalog(folder / "catalog.csv", HTTP_CATALOG_PRODUCTS)
    for args in (["agent", "init"], ["agent", "import-catalog", str(folder / "catalog.csv")]):
        status, output = await run_command([*args, "--config", str(config)])
        if status != 0:
            raise RuntimeError(f"backoffice {' '.join(args)} failed ({status}):\n{output}")
    url = f"http://127.0.0.1:{port}"
    agent = await start_service("agent", ["agent", "run", "--config", str(config)], url,
                                folder / "agent.log")
    pid = agent.process.pid
    rng = random.Random(1)
    clients = [aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(limit=32))
               for _ in range(terminals)]
    try:
        for n, client in enumerate(clients, start=1):
            async with client.post("/api/v1/cash-sessions", json=session_body(), headers={
                    "Authorization": f"Bearer {TERMINAL_TOKEN.format(n)}"}) as resp:
                if resp.status != 201:
                    raise RuntimeError(f"cash session on T{n}: {resp.status} {await resp.text()}")

        async def closed_loop(terminal: int, count: int, latencies: list[float]) -> None:
            client = clients[terminal - 1]
            for _ in range(count):
                body = sale_body(rng, skus)
                started = time.perf_counter()
                await _post_sale(client, terminal, body)
                latencies.append((time.perf_counter() - started) * 1000)

        warmup: list[float] = []
        await asyncio.gather(*(closed_loop(n, WARMUP_SALES_PER_TERMINAL, warmup)
                               for n in range(1, terminals + 1)))

        closed: list[float] = []
        shares = [sales // terminals + (1 if n < sales % terminals else 0)
                  for n in range(terminals)]
        agent_cpu, bench_cpu = cpu_seconds(pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(closed_loop(n, shares[n - 1], closed)
                               for n in range(1, terminals + 1)))
        elapsed = time.perf_counter() - started
        agent_cpu, bench_cpu = cpu_seconds(pid) - agent_cpu, time.process_time() - bench_cpu

        # Open loop: sale n is due at begin + n / rate on terminal n % terminals, whether or
        # not earlier sales have been answered; its latency counts from when it was due.
        paced: list[float] = []
        from_send: list[float] = []
        lateness: list[float] = []
        total = max(1, int(rate * rate_seconds))
        bodies = [sale_body(rng, skus) for _ in range(total)]

        async def due(n: int, at: float) -> None:
            sent = time.perf_counter()
            lateness.append((sent - at) * 1000)
            terminal = 1 + n % terminals
            await _post_sale(clients[terminal - 1], terminal, bodies[n])
            paced.append((time.perf_counter() - at) * 1000)
            from_send.append((time.perf_counter() - sent) * 1000)

        tasks: list[asyncio.Task[None]] = []
        begin = time.perf_counter() + 0.05
        for n in range(total):
            at = begin + n / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(due(n, at)))
        await asyncio.gather(*tasks)
        paced_elapsed = time.perf_counter() - begin

        async with clients[0].get("/api/v1/sales/summary", headers={
                "Authorization": f"Bearer {TERMINAL_TOKEN.format(1)}"}) as resp:
            summary = await resp.json()
        recorded = sum(day["count"] for day in summary["days"])
        expected = len(warmup) + len(closed) + len(paced)
        if recorded != expected:
            raise RuntimeError(f"the agent recorded {recorded} sales, {expected} were answered")
        figures: Figures = {
            "http_terminals": terminals,
            "http_closed_sales": len(closed),
            "http_sales_per_s": len(closed) / elapsed,
            "http_p50_ms": percentile(closed, 50),
            "http_p95_ms": percentile(closed, 95),
            "http_p99_ms": percentile(closed, 99),
            "http_max_ms": max(closed),
            "agent_cpu_ms_per_sale": agent_cpu * 1000 / len(closed),
            "client_cpu_ms_per_sale": bench_cpu * 1000 / len(closed),
            "paced_offered_per_s": float(rate),
            "paced_achieved_per_s": len(paced) / paced_elapsed,
            "paced_sales": len(paced),
            "paced_p50_ms": percentile(paced, 50),
            "paced_p95_ms": percentile(paced, 95),
            "paced_p99_ms": percentile(paced, 99),
            "paced_max_ms": max(paced),
            "paced_p99_from_send_ms": percentile(from_send, 99),
            "paced_send_lateness_p99_ms": percentile(lateness, 99),
            "agent_rss_mb": rss_mb(pid),
            "agent_peak_rss_mb": rss_mb(pid, "VmHWM"),
        }
    finally:
        for client in clients:
            await client.close()
        await stop_service(agent)
    ledger_mb = files_mb(folder, "ledger.db*")  # the agent checkpointed its WAL on stopping
    return figures | {"agent_ledger_mb": ledger_mb,
                      "agent_ledger_kb_per_sale": ledger_mb * 1024 / recorded}


# --- 2. the ledger alone against raw SQLite, in-process ---

def raw_events_db(path: Path) -> sqlite3.Connection:
    """A fresh WAL file with ``synchronous=FULL`` and the ledger's events table and indexes."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, "
                 "kind TEXT NOT NULL, recorded_at TEXT NOT NULL, business_date TEXT NOT NULL, "
                 "payload TEXT NOT NULL, hash TEXT NOT NULL) STRICT")
    conn.execute("CREATE UNIQUE INDEX idx_events_event_id ON events (event_id)")
    conn.execute("CREATE INDEX idx_events_kind_business_date ON events (kind, business_date)")
    return conn


def ledger_figures(folder: Path, count: int) -> tuple[Figures, dict[str, Any]]:
    """Figures, and one recorded sale payload (the template for the scale ledger's events)."""
    settings = load_agent_settings(write_config(folder, 0, 1), env={})
    store = store_context(settings)
    path = settings.ledger.path
    create_ledger(path, STORE_ID, utc_text(datetime.now(UTC)))
    db = connect(path)
    skus = write_catalog(folder / "catalog.csv", HTTP_CATALOG_PRODUCTS)
    import_catalog_csv(db, folder / "catalog.csv", store.exponent)
    open_session(db, store, "T1", session_body(), datetime.now(UTC))
    rng = random.Random(2)
    bodies = [sale_body(rng, skus) for _ in range(count)]
    latencies: list[float] = []
    started = time.perf_counter()
    for body in bodies:
        now = datetime.now(UTC)
        began = time.perf_counter()
        outcome = record_sale(db, store, "T1", body, now)
        latencies.append((time.perf_counter() - began) * 1000)
        assert outcome.created
    ledger_rate = count / (time.perf_counter() - started)
    rows = db.execute(f"SELECT {EVENTS_COLUMNS} FROM events WHERE kind = 'sale.completed' "
                      "ORDER BY seq").fetchall()
    template = json.loads(rows[-1][5])
    db.close()

    conn = raw_events_db(folder / "raw-batch.db")
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO events ({EVENTS_COLUMNS}) VALUES (?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    batch_rate = len(rows) / (time.perf_counter() - started)
    conn.close()

    conn = raw_events_db(folder / "raw-each.db")
    commits: list[float] = []
    started = time.perf_counter()
    for row in rows:
        began = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute(f"INSERT INTO events ({EVENTS_COLUMNS}) VALUES (?,?,?,?,?,?,?)", row)
        conn.execute("COMMIT")
        commits.append((time.perf_counter() - began) * 1000)
    each_rate = len(rows) / (time.perf_counter() - started)
    conn.close()
    return {
        "ledger_sales": count,
        "ledger_sales_per_s": ledger_rate,
        "ledger_p50_ms": percentile(latencies, 50),
        "ledger_p99_ms": percentile(latencies, 99),
        "event_payload_bytes": statistics.mean(len(r[5]) for r in rows),
        "raw_batch_rows_per_s": batch_rate,
        "raw_commit_each_rows_per_s": each_rate,
        "raw_commit_p50_ms": percentile(commits, 50),
        "raw_commit_p99_ms": percentile(commits, 99),
        "ledger_vs_raw_batch": ledger_rate / batch_rate,
        "ledger_vs_raw_commit_each": ledger_rate / each_rate,
    }, template


# --- 3. a big ledger: barcode lookups with 100,000 products and 1,000,000 events ---

def _event_at(seq: int, events: int) -> tuple[str, str]:
    """recorded_at and business_date: the events spread over about a year."""
    at = datetime(2025, 11, 24, 8, tzinfo=UTC) + timedelta(seconds=seq * 31_536_000 // events)
    return utc_text(at), at.date().isoformat()


def _sale_payload(template: dict[str, Any], seq: int) -> dict[str, Any]:
    return {**template, "sale_id": str(uuid.UUID(int=seq)), "receipt_no": seq}


def fill_events(db: Database, events: int, template: dict[str, Any], budget: float) -> Figures:
    """``events`` hash-chained ``sale.completed`` events: through ``append_event`` in
    transactions of EVENT_CHUNK while the whole fill is on course to finish within
    ``budget`` seconds, then valid chained rows via ``executemany`` for the rest."""
    conn = db.conn
    template = canonical(template)
    started = time.perf_counter()
    done = 0
    while done < events:
        first, last = done + 1, min(events, done + EVENT_CHUNK)
        chunk_started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for seq in range(first, last + 1):
            recorded_at, day = _event_at(seq, events)
            append_event(db, STORE_ID, "sale.completed", _sale_payload(template, seq),
                         recorded_at, day)
        conn.execute("COMMIT")
        done = last
        chunk_rate = (last - first + 1) / (time.perf_counter() - chunk_started)
        if time.perf_counter() - started + (events - done) / chunk_rate > budget:
            break
    appended, append_seconds = done, time.perf_counter() - started
    previous = conn.execute("SELECT hash FROM events WHERE seq = ?", [done]).fetchone()[0]
    while done < events:
        first, last = done + 1, min(events, done + EVENT_CHUNK)
        rows = []
        for seq in range(first, last + 1):
            recorded_at, day = _event_at(seq, events)
            payload, event_id = _sale_payload(template, seq), str(uuid.uuid4())
            previous = chain_hash(previous, canonical_event_bytes(
                STORE_ID, seq, event_id, "sale.completed", recorded_at, day, payload,
                payload_is_canonical=True))
            rows.append((seq, event_id, "sale.completed", recorded_at, day,
                         json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
                         previous))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO events ({EVENTS_COLUMNS}) VALUES (?,?,?,?,?,?,?)", rows)
        conn.execute("COMMIT")
        done = last
    return {"events_via_append_event": appended,
            "append_event_per_s": appended / append_seconds,
            "events_via_executemany": events - appended,
            "events_fill_s": time.perf_counter() - started}


def scale_figures(folder: Path, products: int, events: int,
                  template: dict[str, Any]) -> Figures:
    path = folder / "ledger.db"
    create_ledger(path, STORE_ID, utc_text(datetime.now(UTC)))
    db = connect(path)
    conn = db.conn
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO products (sku, name, price_minor, tax_rate) VALUES (?,?,?,?)",
                     ((f"{1_000_000 + n}", f"Product {n}", 100 + n % 5000, ("7", "19")[n % 2])
                      for n in range(products)))
    conn.executemany("INSERT INTO barcodes (barcode, sku) VALUES (?, ?)",
                     ((gtin(n), f"{1_000_000 + n}") for n in range(products)))
    conn.execute("COMMIT")
    products_seconds = time.perf_counter() - started
    fill = fill_events(db, events, template, APPEND_BUDGET_SECONDS)
    db.close()
    size_mb = files_mb(folder, "ledger.db*")

    db = connect(path)  # a fresh connection, as after an agent restart (OS cache warm)
    rng = random.Random(3)
    codes = [gtin(rng.randrange(products)) for _ in range(LOOKUPS)]
    now = utc_text(datetime.now(UTC))
    latencies: list[float] = []
    for code in codes:
        began = time.perf_counter_ns()
        find_by_barcode(db, code, "barcode", now)
        latencies.append((time.perf_counter_ns() - began) / 1000)
    db.close()
    return {"products": products, "events": events, "products_load_s": products_seconds,
            **fill,
            "lookups": len(latencies),
            "lookup_p50_us": percentile(latencies, 50),
            "lookup_p99_us": percentile(latencies, 99),
            "lookup_max_us": max(latencies),
            "ledger_file_mb": size_mb,
            "bench_rss_mb": rss_mb()}


# --- the run ---

def verdicts(figures: Figures) -> Figures:
    paced, lookup = float(figures["paced_p99_ms"]), float(figures["lookup_p99_us"])
    return {"target_paced_p99_ms": TARGET_PACED_P99_MS,
            "target_paced_p99_met": paced <= TARGET_PACED_P99_MS,
            "target_lookup_p99_us": TARGET_LOOKUP_P99_US,
            "target_lookup_p99_met": lookup <= TARGET_LOOKUP_P99_US}


def summary_table(figures: Figures) -> Table:
    table = Table(title="against the targets", title_justify="left")
    for column in ("what", "measured", "target", "met"):
        table.add_column(column)
    rate = _format(figures["paced_offered_per_s"])
    table.add_row(f"p99 at {rate} sales/s offered", f"{_format(figures['paced_p99_ms'])} ms",
                  f"<= {TARGET_PACED_P99_MS:g} ms", str(figures["target_paced_p99_met"]))
    table.add_row(f"barcode lookup p99 ({figures['products']:,} products, "
                  f"{figures['events']:,} events)", f"{_format(figures['lookup_p99_us'])} µs",
                  f"<= {TARGET_LOOKUP_P99_US:g} µs", str(figures["target_lookup_p99_met"]))
    table.add_row("ledger sales/s ÷ raw executemany rows/s",
                  _format(figures["ledger_vs_raw_batch"]), "reported", "—")
    table.add_row("ledger sales/s ÷ raw commit-per-row rows/s",
                  _format(figures["ledger_vs_raw_commit_each"]), "reported", "—")
    return table


async def main() -> None:
    parser = argparse.ArgumentParser(
        description="Store agent benchmark: HTTP sales, the ledger vs raw SQLite, lookups at "
                    "scale. See docs/benchmarks.md.")
    parser.add_argument("--sales", type=int, default=4000,
                        help="closed-loop HTTP sales, and record_sale calls in part 2")
    parser.add_argument("--terminals", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200.0,
                        help="offered sales/s for the open-loop run")
    parser.add_argument("--rate-seconds", type=float, default=15.0,
                        help="length of the open-loop run")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 300 sales, 10,000 products, 50,000 events")
    args = parser.parse_args()
    if args.quick:
        args.sales, args.rate_seconds = 300, 5.0
        args.products, args.events = 10_000, 50_000
    if args.terminals < 1 or args.sales < args.terminals or args.products < 1 \
            or args.events < 1 or args.rate <= 0:
        parser.error("need terminals >= 1, sales >= terminals, products, events and rate > 0")

    console = Console()
    figures: Figures = {}
    walls: Figures = {}
    run_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        parts = {name: Path(tmp) / name for name in ("http", "ledger", "scale")}
        for folder in parts.values():
            folder.mkdir()

        console.print(f"[bold]1/3[/] {args.terminals} terminals, sales through the HTTP API "
                      f"of a real agent process ...")
        started = time.perf_counter()
        part = await http_figures(parts["http"], args.terminals, args.sales, args.rate,
                                  args.rate_seconds)
        walls["wall_http_s"] = time.perf_counter() - started
        console.print(figures_table("1. HTTP: durable 5-line sales", part))
        figures |= part

        console.print(f"[bold]2/3[/] the ledger alone ({args.sales:,} record_sale calls) vs raw "
                      "SQLite ...")
        started = time.perf_counter()
        part, template = ledger_figures(parts["ledger"], args.sales)
        walls["wall_ledger_s"] = time.perf_counter() - started
        console.print(figures_table("2. the ledger vs raw SQLite, same rows, same run", part))
        figures |= part

        console.print(f"[bold]3/3[/] a ledger with {args.products:,} products and "
                      f"{args.events:,} events, {LOOKUPS:,} barcode lookups ...")
        started = time.perf_counter()
        part = scale_figures(parts["scale"], args.products, args.events, template)
        walls["wall_scale_s"] = time.perf_counter() - started
        console.print(figures_table("3. scale: barcode lookups in a big ledger", part))
        figures |= part

    walls["wall_total_s"] = time.perf_counter() - run_started
    figures |= verdicts(figures)
    console.print(summary_table(figures))
    console.print(figures_table("wall time", walls))
    print(json_line({"benchmark": "agent_sales", "cpus": os.cpu_count() or 0,
                     "quick": args.quick, **figures, **walls}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
