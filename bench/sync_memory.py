"""Sync memory benchmark: is memory flat in the backlog size? A store's backlog of 10,000 and
then 1,000,000 realistic sale events (5-line sales, hash-chained, ~1.7 KB each) drained by a
real ``backoffice agent sync`` process into a real ``backoffice server run`` process on a fresh
embedded SQLite database each time; both processes' peak RSS are sampled from /proc.

    python -m bench.sync_memory              # 10,000 and 1,000,000 events (about 10 minutes)
    python -m bench.sync_memory --quick      # 2,000 and 50,000 events

Target (issue 4): RSS growth <= 50 MB between the two backlogs, for the agent and the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from backoffice.demo.processes import free_port, run_command, start_service, stop_service
from bench import agent_sales
from bench.agent_sales import Figures, print_figures, write_catalog
from config import load_agent_settings
from store_agent.app import store_context
from store_agent.cash import open_session
from store_agent.catalog import import_catalog_csv
from store_agent.clock import utc_text
from store_agent.ledger import append_event, create_ledger, open_ledger, write_transaction
from store_agent.sales import record_sale

STORE_ID = agent_sales.STORE_ID
TOKEN = re.compile(r"\b(bos_[A-Za-z0-9_-]{20,})")


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MiB, or 0 once it has gone."""
    try:
        return agent_sales.rss_mb(pid, "VmHWM")
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


async def _backlog(folder: Path, url: str, token: str, events: int) -> tuple[Path, float]:
    """A store whose ledger holds ``events`` unsynced sale events; returns its config."""
    config = folder / "store.toml"
    config.write_text(f'[store]\nid = "{STORE_ID}"\ntimezone = "UTC"\n\n[head_office]\n'
                      f'url = "{url}"\nsync_token = "{token}"\ntimeout_seconds = 120\n\n'
                      f'[terminals]\nT1 = "bench-terminal-token-1"\n\n[sync]\nenabled = false\n'
                      f'batch_max_events = 2000\nbatch_max_bytes = 4194304\n\n[logging]\n'
                      f'level = "warning"\n', encoding="utf-8")
    settings = load_agent_settings(config, env={})
    create_ledger(settings.ledger.path, STORE_ID, utc_text(datetime.now(UTC)))
    db = open_ledger(settings.ledger.path, STORE_ID)
    try:
        skus = write_catalog(folder / "catalog.csv", 300)
        import_catalog_csv(db, folder / "catalog.csv", 2)
        store, now = store_context(settings), datetime.now(UTC)
        with write_transaction(db):
            open_session(db, store, "T1", {"session_id": "session-1", "employee": "E1",
                                           "float": "100.00"}, now)
            sold = record_sale(db, store, "T1", {
                "sale_id": str(uuid.uuid4()), "cashier": "E1",
                "lines": [{"sku": sku, "quantity": "1"} for sku in skus[:5]],
                "tenders": [{"type": "cash", "amount": "1000.00"}]}, now)
        template = json.loads(db.execute("SELECT payload FROM events WHERE seq = ?",
                                         [sold.seq]).fetchone()[0])
        started = time.perf_counter()
        _fill_after(db, events - 2, template)
        fill_seconds = time.perf_counter() - started
    finally:
        db.close()
    return config, fill_seconds


def _fill_after(db: Any, count: int, template: dict[str, Any]) -> None:
    """Append ``count`` more chained sale events (through ``append_event``)."""
    conn = db.conn
    done = 0
    while done < count:
        chunk = min(10_000, count - done)
        conn.execute("BEGIN IMMEDIATE")
        for n in range(done, done + chunk):
            append_event(db, STORE_ID, "sale.completed",
                         {**template, "sale_id": str(uuid.UUID(int=n + 1)),
                          "receipt_no": n + 2}, utc_text(datetime.now(UTC)),
                         datetime.now(UTC).date().isoformat())
        conn.execute("COMMIT")
        done += chunk


def _server_config(folder: Path, port: int) -> Path:
    folder.mkdir(parents=True)
    path = folder / "server.toml"
    path.write_text(f'[http]\nport = {port}\nmax_body_bytes = 67108864\n\n'
                    f'[database]\nurl = "sqlite:///central.db"\n\n[sync]\n'
                    f'max_batch_events = 5000\n\n[logging]\nlevel = "warning"\n',
                    encoding="utf-8")
    return path


async def _drain(folder: Path, events: int, console: Console) -> dict[str, float]:
    port = free_port()
    server_config = _server_config(folder, port)
    await run_command(["server", "init", "--config", str(server_config)])
    _, output = await run_command(["server", "enroll-store", STORE_ID, "--name", "Busy",
                                   "--timezone", "UTC", "--config", str(server_config)])
    token = TOKEN.findall(output)[0]
    console.print(f"building a backlog of {events:,} events ...")
    store_config, fill_seconds = await _backlog(folder, f"http://127.0.0.1:{port}", token,
                                                events)
    server = await start_service("server", ["server", "run", "--config", str(server_config)],
                                 f"http://127.0.0.1:{port}", folder / "server.log")
    try:
        server_start = _peak_rss_mb(server.process.pid)
        console.print(f"draining {events:,} events ...")
        started = time.perf_counter()
        agent = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backoffice", "agent", "sync", "--config", str(store_config),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        agent_peak = 0.0
        while agent.returncode is None:
            agent_peak = max(agent_peak, _peak_rss_mb(agent.pid))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(agent.wait(), 0.2)
        drain = time.perf_counter() - started
        server_peak = _peak_rss_mb(server.process.pid)
    finally:
        await stop_service(server)
    if agent.returncode != 0:
        raise RuntimeError(f"agent sync exited {agent.returncode}")
    return {"events": events, "fill_s": round(fill_seconds, 1), "drain_s": round(drain, 2),
            "events_per_s": round(events / drain), "agent_peak_rss_mb": round(agent_peak, 1),
            "server_rss_at_start_mb": round(server_start, 1),
            "server_peak_rss_mb": round(server_peak, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.small, args.large = 2_000, 50_000
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-sync-memory-") as tmp:
        small = await _drain(Path(tmp) / "small", args.small, console)
        large = await _drain(Path(tmp) / "large", args.large, console)
    figures: Figures = {f"small_{k}": v for k, v in small.items()}
    figures.update({f"large_{k}": v for k, v in large.items()})
    agent_growth = round(large["agent_peak_rss_mb"] - small["agent_peak_rss_mb"], 1)
    server_growth = round(large["server_peak_rss_mb"] - small["server_peak_rss_mb"], 1)
    figures.update({"agent_rss_growth_mb": agent_growth, "server_rss_growth_mb": server_growth,
                    "target_growth_mb": 50, "target_met": max(agent_growth, server_growth) <= 50})
    print_figures(console, "sync memory: peak RSS draining a small and a large backlog",
                  figures)


if __name__ == "__main__":
    asyncio.run(main())
