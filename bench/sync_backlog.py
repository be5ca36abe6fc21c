"""Sync benchmark: a week offline for a busy store drained into head office over loopback,
against the physical limit measured in the same run (msgpack encode + decode of the same
events and a raw ``executemany`` of them into SQLite).

    python -m bench.sync_backlog            # 25,000 five-line sales + punches + stock events
    python -m bench.sync_backlog --quick    # 2,000 sales
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
from rich.console import Console

from backoffice.demo.processes import free_port, run_command, start_service, stop_service
from bench.agent_sales import print_figures, rss_mb, write_catalog
from config import load_agent_settings
from server.catalog import upsert_product
from server.storage import Storage
from store_agent.app import store_context
from store_agent.cash import open_session
from store_agent.catalog import import_catalog_csv
from store_agent.clock import SystemClock
from store_agent.ledger import Ledger, create_ledger, events_after, open_ledger, write_transaction
from store_agent.pull_client import pull_changes
from store_agent.sales import record_sale
from store_agent.stock import receive
from store_agent.sync_client import push_pending
from store_agent.timeclock import punch

TOKEN = re.compile(r"\b(bos_[A-Za-z0-9_-]{20,})")


def build_backlog(folder: Path, url: str, token: str, sales: int,
                  compress_min_bytes: int = 1024) -> Any:
    config = folder / "store.toml"
    config.write_text(f'[store]\nid = "S001"\ntimezone = "UTC"\n\n[head_office]\nurl = "{url}"\n'
                      f'sync_token = "{token}"\ntimeout_seconds = 120\n\n[terminals]\n'
                      f'T1 = "bench-terminal-token-1"\n\n[sync]\nenabled = false\n'
                      f'batch_max_events = 2000\nbatch_max_bytes = 4194304\n'
                      f'compress_min_bytes = {compress_min_bytes}\n')
    settings = load_agent_settings(config, env={})
    create_ledger(settings.ledger.path, "S001", "x")
    db = open_ledger(settings.ledger.path, "S001")
    skus = write_catalog(folder / "catalog.csv", 2000)
    import_catalog_csv(db, folder / "catalog.csv", 2)
    store, rng = store_context(settings), random.Random(5)
    now = datetime.now(UTC)
    open_session(db, store, "T1", {"session_id": "week-session", "employee": "E1",
                                   "float": "100.00"}, now)
    for start in range(0, sales, 1000):
        with write_transaction(db):
            for n in range(start, min(sales, start + 1000)):
                record_sale(db, store, "T1", {
                    "sale_id": str(uuid.uuid4()), "cashier": "E1",
                    "lines": [{"sku": s, "quantity": "1"} for s in rng.sample(skus, 5)],
                    "tenders": [{"type": "cash", "amount": "1000.00"}]}, now)
                if n % 50 == 0:  # punches and deliveries through the week
                    punch(db, store, "T1", {"punch_id": f"p-{n:08d}", "employee": f"E{n % 7}",
                                            "action": "in"}, now)
                    punch(db, store, "T1", {"punch_id": f"q-{n:08d}", "employee": f"E{n % 7}",
                                            "action": "out"}, now)
                if n % 200 == 0:
                    receive(db, store, {"receipt_id": f"r-{n:08d}", "employee": "E1",
                                        "lines": [{"sku": s, "quantity": "12"}
                                                  for s in rng.sample(skus, 10)]}, now)
    events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    db.close()
    return settings, events


async def publish_catalog(database_url: str, catalog_lines: list[str]) -> None:
    """Head office knows the store's catalog (as it would: it owns it), so the week's sales
    raise no reconciliation items."""
    storage = Storage(database_url)
    try:
        for line in catalog_lines[1:]:
            sku, name, price, rate, barcode = line.split(",")
            await upsert_product(storage, sku, name, int(price.replace(".", "")), rate,
                                 [barcode], True)
    finally:
        await storage.dispose()


def physical_limit(settings: Any, folder: Path) -> tuple[float, int]:
    """Plain msgpack encode + decode of every event (no checks), and a raw executemany of the
    rows into SQLite: what the disk, SQLite and msgpack allow, with nothing of ours."""
    db = open_ledger(settings.ledger.path, "S001")
    events = events_after(db, "S001", 0, 10**9, 10**12)
    db.close()
    started = time.perf_counter()
    rows = []
    for start in range(0, len(events), 2000):
        packed = msgpack.packb([[e.seq, e.event_id, e.kind, e.recorded_at, e.business_date,
                                 e.payload, e.hash] for e in events[start:start + 2000]])
        rows += [("S001", seq, event_id, kind, at, day, json.dumps(payload), digest)
                 for seq, event_id, kind, at, day, payload, digest in msgpack.unpackb(packed)]
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE e (store_id TEXT, seq INTEGER, event_id TEXT UNIQUE, kind TEXT, "
                 "recorded_at TEXT, business_date TEXT, payload TEXT, hash TEXT, "
                 "PRIMARY KEY (store_id, seq))")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO e VALUES (?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started, len(msgpack.packb([r[6] for r in rows]))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=25_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-compress", action="store_true",
                        help="send batches uncompressed (default: gzip from 1 KiB)")
    args = parser.parse_args()
    if args.quick:
        args.sales = 2000
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        folder = Path(tmp)
        port = free_port()
        (folder / "server.toml").write_text(f'[http]\nport = {port}\nmax_body_bytes = 67108864'
                                            f'\n\n[database]\nurl = "sqlite:///central.db"\n\n'
                                            f'[sync]\nmax_batch_events = 5000\n\n[logging]\n'
                                            f'level = "warning"\n')
        await run_command(["server", "init", "--config", str(folder / "server.toml")])
        _, output = await run_command(["server", "enroll-store", "S001", "--name", "Busy",
                                       "--timezone", "UTC", "--config",
                                       str(folder / "server.toml")])
        token = TOKEN.findall(output)[0]
        console.print(f"building a week's backlog of {args.sales:,} sales ...")
        settings, events = build_backlog(folder, f"http://127.0.0.1:{port}", token, args.sales,
                                         0 if args.no_compress else 1024)
        await publish_catalog(f"sqlite:///{folder / 'central.db'}",
                              (folder / "catalog.csv").read_text(encoding="utf-8").splitlines())
        server = await start_service("server", ["server", "run", "--config",
                                                str(folder / "server.toml")],
                                     f"http://127.0.0.1:{port}", folder / "server.log")
        # The store had the catalog before it went offline: pull it first, untimed.
        ledger = Ledger(settings.ledger.path, "S001")
        await ledger.open()
        async with aiohttp.ClientSession() as session:
            await pull_changes(ledger, settings, session, None, "bench")
        await ledger.close()
        peaks = {"server": 0.0, "agent": 0.0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peaks["server"] = max(peaks["server"], rss_mb(server.process.pid))
                peaks["agent"] = max(peaks["agent"], rss_mb())
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        agent_before = rss_mb()
        try:
            sampler.start()
            ledger = Ledger(settings.ledger.path, "S001")
            await ledger.open()
            started = time.perf_counter()
            result = await push_pending(ledger, settings, SystemClock())
            drain = time.perf_counter() - started
            await ledger.close()
        finally:
            stop.set()
            sampler.join()
            await stop_service(server)
        console.print("measuring the physical limit on the same events ...")
        limit, _ = physical_limit(settings, folder)
    figures = {"gzip": 0 if args.no_compress else 1, "sales": args.sales, "events": events,
               "pushed": result.pushed,
               "batches": result.batches, "drain_seconds": drain, "events_per_s": events / drain,
               "limit_seconds": limit, "fraction_of_limit": limit / drain,
               "agent_rss_mb_before": agent_before, "agent_peak_rss_mb": peaks["agent"],
               "server_peak_rss_mb": peaks["server"]}
    print_figures(console, "sync: a week's backlog over loopback into SQLite", figures)


if __name__ == "__main__":
    asyncio.run(main())
