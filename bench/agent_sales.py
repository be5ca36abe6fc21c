"""Store agent benchmark: sales through the POS API, the ledger alone against raw SQLite, and
barcode lookups in a big ledger. Prints a table and a final JSON line.

    python -m bench.agent_sales            # the figures in docs/benchmarks.md
    python -m bench.agent_sales --quick    # a smoke run in well under a minute

Every ratio is against a baseline measured in the same run, because this machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table

from backoffice.demo.processes import free_port, run_command, start_service, stop_service
from config import load_agent_settings
from store_agent.app import store_context
from store_agent.cash import open_session
from store_agent.catalog import find_by_barcode, import_catalog_csv
from store_agent.ledger import create_ledger, open_ledger
from store_agent.sales import record_sale
from sync.events import GENESIS_HASH, canonical_event_bytes, chain_hash

TERMINAL_TOKEN = "bench-terminal-token-{}"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def write_config(folder: Path, port: int, terminals: int) -> Path:
    tokens = "\n".join(f'T{n} = "{TERMINAL_TOKEN.format(n)}"' for n in range(1, terminals + 1))
    path = folder / "store.toml"
    path.write_text(f'[store]\nid = "B001"\ntimezone = "UTC"\n\n[head_office]\n'
                    f'url = "http://127.0.0.1:9"\nsync_token = "bos_{"x" * 40}"\n\n'
                    f'[terminals]\n{tokens}\n\n[http]\nport = {port}\n\n'
                    f'[sync]\nenabled = false\n\n[logging]\nlevel = "warning"\n')
    return path


def write_catalog(path: Path, products: int) -> list[str]:
    rows, skus = ["sku,name,price,tax_rate,barcodes"], []
    for n in range(products):
        sku = f"{100000 + n}"
        rows.append(f"{sku},Product {n},{1 + n % 50}.{n % 100:02d},{(7, 19)[n % 2]},"
                    f"B{sku}")
        skus.append(sku)
    path.write_text("\n".join(rows) + "\n")
    return skus


def sale_body(rng: random.Random, skus: list[str]) -> dict[str, Any]:
    return {"sale_id": str(uuid.uuid4()), "cashier": "E1",
            "lines": [{"sku": sku, "quantity": "1"} for sku in rng.sample(skus, 5)],
            "tenders": [{"type": "cash", "amount": "1000.00"}]}


async def http_figures(folder: Path, terminals: int, sales: int, rate: int,
                       rate_seconds: float) -> dict[str, float]:
    port = free_port()
    config = write_config(folder, port, terminals)
    skus = write_catalog(folder / "catalog.csv", 500)
    for args in (["agent", "init"], ["agent", "import-catalog", str(folder / "catalog.csv")]):
        status, output = await run_command([*args, "--config", str(config)])
        assert status == 0, output
    url = f"http://127.0.0.1:{port}"
    agent = await start_service("agent", ["agent", "run", "--config", str(config)], url,
                                folder / "agent.log")
    rng = random.Random(1)
    try:
        connector = aiohttp.TCPConnector(limit=terminals * 4)
        async with aiohttp.ClientSession(base_url=url, connector=connector) as session:
            for n in range(1, terminals + 1):
                async with session.post("/api/v1/cash-sessions", json={
                        "session_id": f"bench-session-{n}", "employee": "E1", "float": "0.00"},
                        headers={"Authorization": f"Bearer {TERMINAL_TOKEN.format(n)}"}) as r:
                    assert r.status == 201, await r.text()

            async def post(terminal: int, latencies: list[float]) -> None:
                body = sale_body(rng, skus)
                started = time.perf_counter()
                async with session.post("/api/v1/sales", json=body, headers={
                        "Authorization": f"Bearer {TERMINAL_TOKEN.format(terminal)}"}) as resp:
                    await resp.read()
                    assert resp.status == 201, resp.status
                latencies.append((time.perf_counter() - started) * 1000)

            closed: list[float] = []

            async def terminal_loop(terminal: int, count: int) -> None:
                for _ in range(count):
                    await post(terminal, closed)

            started = time.perf_counter()
            await asyncio.gather(*(terminal_loop(n, sales // terminals)
                                   for n in range(1, terminals + 1)))
            elapsed = time.perf_counter() - started

            paced: list[float] = []
            tasks = []
            interval = 1 / rate
            begin = time.perf_counter()
            for n in range(int(rate * rate_seconds)):
                delay = begin + n * interval - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.ensure_future(post(1 + n % terminals, paced)))
            await asyncio.gather(*tasks)
            achieved = len(paced) / (time.perf_counter() - begin)
        return {"http_sales_per_s": len(closed) / elapsed,
                "http_p50_ms": percentile(closed, 50), "http_p99_ms": percentile(closed, 99),
                "paced_rate": achieved, "paced_p50_ms": percentile(paced, 50),
                "paced_p99_ms": percentile(paced, 99), "agent_rss_mb": rss_mb(agent.process.pid)}
    finally:
        await stop_service(agent)


def ledger_figures(folder: Path, count: int) -> dict[str, float]:
    config = write_config(folder, 0, 1)
    settings = load_agent_settings(config, env={})
    create_ledger(settings.ledger.path, "B001", "x")
    db = open_ledger(settings.ledger.path, "B001")
    skus = write_catalog(folder / "catalog.csv", 500)
    import_catalog_csv(db, folder / "catalog.csv", 2)
    store, now, rng = store_context(settings), datetime.now(UTC), random.Random(2)
    open_session(db, store, "T1", {"session_id": "bench-session", "employee": "E1",
                                   "float": "0.00"}, now)
    started = time.perf_counter()
    for _ in range(count):
        record_sale(db, store, "T1", sale_body(rng, skus), now)
    ledger_rate = count / (time.perf_counter() - started)
    rows = db.execute("SELECT seq, event_id, kind, recorded_at, business_date, payload, hash "
                      "FROM events WHERE kind = 'sale.completed'").fetchall()
    db.close()

    def raw_db(name: str) -> sqlite3.Connection:
        conn = sqlite3.connect(folder / name, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL "
                     "UNIQUE, kind TEXT, recorded_at TEXT, business_date TEXT, payload TEXT, "
                     "hash TEXT) STRICT")
        return conn

    conn = raw_db("raw-batch.db")
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    batch_rate = len(rows) / (time.perf_counter() - started)
    conn.close()
    conn = raw_db("raw-each.db")
    commits: list[float] = []
    started = time.perf_counter()
    for row in rows:
        began = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?)", row)
        conn.execute("COMMIT")
        commits.append((time.perf_counter() - began) * 1000)
    each_rate = len(rows) / (time.perf_counter() - started)
    conn.close()
    return {"ledger_sales_per_s": ledger_rate, "raw_batch_rows_per_s": batch_rate,
            "raw_commit_each_rows_per_s": each_rate,
            "raw_commit_p50_ms": percentile(commits, 50),
            "raw_commit_p99_ms": percentile(commits, 99),
            "ledger_vs_raw_batch": ledger_rate / batch_rate,
            "ledger_vs_raw_commit_each": ledger_rate / each_rate,
            "payload_bytes": statistics.mean(len(r[5]) for r in rows)}


def scale_figures(folder: Path, products: int, events: int) -> dict[str, float]:
    settings = load_agent_settings(write_config(folder, 0, 1), env={})
    create_ledger(settings.ledger.path, "B001", "x")
    db = open_ledger(settings.ledger.path, "B001")
    conn = db.conn
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO products (sku, name, price_minor, tax_rate) VALUES (?,?,?,?)",
                     ((f"P{n:07d}", f"Product {n}", 100 + n % 5000, "7")
                      for n in range(products)))
    conn.executemany("INSERT INTO barcodes (barcode, sku) VALUES (?, ?)",
                     ((f"B{n:07d}", f"P{n:07d}") for n in range(products)))
    conn.execute("COMMIT")
    payload = {"punch_id": "p", "employee_id": "E1", "action": "in", "state_before": "off",
               "state_after": "working"}
    text = json.dumps(payload, separators=(",", ":"))
    previous = GENESIS_HASH
    chunk: list[tuple[Any, ...]] = []
    for seq in range(1, events + 1):
        event_id = str(uuid.UUID(int=seq))
        previous = chain_hash(previous, canonical_event_bytes(
            "B001", seq, event_id, "time.punched", "2026-11-24T09:00:00.000000Z", "2026-11-24",
            payload))
        chunk.append((seq, event_id, "time.punched", "2026-11-24T09:00:00.000000Z",
                      "2026-11-24", text, previous))
        if len(chunk) == 20000 or seq == events:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?)", chunk)
            conn.execute("COMMIT")
            chunk = []
    build_seconds = time.perf_counter() - started
    rng = random.Random(3)
    latencies = []
    now = "2026-11-24T12:00:00.000000Z"
    for _ in range(10000):
        code = f"B{rng.randrange(products):07d}"
        started = time.perf_counter()
        find_by_barcode(db, code, "code", now)
        latencies.append((time.perf_counter() - started) * 1_000_000)
    db.close()
    size = sum(p.stat().st_size for p in folder.glob("ledger.db*"))
    return {"products": products, "events": events, "build_seconds": build_seconds,
            "lookup_p50_us": percentile(latencies, 50), "lookup_p99_us": percentile(latencies, 99),
            "ledger_mb": size / 1024 / 1024, "bench_rss_mb": rss_mb()}


def print_figures(console: Console, title: str, figures: dict[str, float]) -> None:
    """A table for people, then one JSON line for scripts."""
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.3f}" if isinstance(value, float) else f"{value:,}")
    console.print(table)
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=4000, help="closed-loop HTTP sales")
    parser.add_argument("--terminals", type=int, default=4)
    parser.add_argument("--rate", type=int, default=200, help="offered sales/s, open loop")
    parser.add_argument("--rate-seconds", type=float, default=15)
    parser.add_argument("--ledger-sales", type=int, default=3000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    if args.quick:
        args.sales, args.rate_seconds, args.ledger_sales = 400, 3, 300
        args.products, args.events = 10_000, 50_000
    console = Console()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        for name in ("http", "ledger", "scale"):
            (Path(tmp) / name).mkdir()
        console.print("[bold]1/3[/] sales through the HTTP API ...")
        figures |= await http_figures(Path(tmp) / "http", args.terminals, args.sales, args.rate,
                                      args.rate_seconds)
        console.print("[bold]2/3[/] the ledger alone vs raw SQLite ...")
        figures |= ledger_figures(Path(tmp) / "ledger", args.ledger_sales)
        console.print("[bold]3/3[/] barcode lookups in a big ledger ...")
        figures |= scale_figures(Path(tmp) / "scale", args.products, args.events)
    print_figures(console, f"store agent benchmark ({os.cpu_count()} CPUs)", figures)


if __name__ == "__main__":
    asyncio.run(main())
