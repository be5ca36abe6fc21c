"""Head-office ingest benchmark: many stores pushing hash-chained sale batches at once into a
real ``backoffice server run`` process, on SQLite and then on PostgreSQL, each against a raw
bulk insert of the very same event rows into the same backend, measured in the same run.

    python -m bench.server_ingest            # 1,000 stores x 4 batches x 100 sales
    python -m bench.server_ingest --quick    # 50 stores, in well under a minute
    python -m bench.server_ingest --stores 200 --batches-per-store 10 --events-per-batch 50

For each backend (an SQLite file, then a PostgreSQL database created for the run at
127.0.0.1:5432 and dropped after it):

1. ``backoffice server init``, then, in this process and before the server starts, a
   ``--catalog``-product catalog (so that sales match head office's prices and file no
   reconciliation items), ``--stores`` stores enrolled with ``server.admin.enroll_store`` and
   their stock levels (so that sales do not take stock below zero).
2. A real ``backoffice server run`` process on a free loopback port. Every store's
   ``sale.completed`` events (5-line sales shaped like the agent's, hash chained from genesis)
   and their encoded push bodies are built once, before any timing, and reused for both
   backends. Then every store pushes its batches in seq order, one batch in flight per store,
   all stores at once through one aiohttp connector of ``--concurrency`` connections. Figures:
   events/s over the whole push; latency per request (``push_p*_ms``: p50/p99/max from the
   request's start, connector wait included; a retry is a request of its own) and per batch
   from its first attempt to its acceptance (``batch_accepted_p*_s``, backoff included); the
   server's RSS (sampled, and its VmHWM) and CPU from /proc.
3. Checks: every answer is 200 with the expected high-water mark, or 503 with
   ``Retry-After`` (the server's push admission turning a batch back, counted as
   ``shed_503_retry_after``); ``store_events``, ``sales`` and ``sale_lines`` hold exactly what
   was pushed and every store's high-water mark is its last seq. Any other refusal (another
   5xx, a reset connection) is a failure. A turned-back or refused batch is sent again as
   an agent would: after the answer's ``Retry-After`` (plus up to 50 % jitter) when it has
   one, else after the agent's own backoff (``store_agent.sync_loop.backoff_seconds``: from
   3.75 s doubling, ±50 % jitter, at most 300 s), until it is taken; stores still pushing
   after ``--deadline`` seconds are cancelled. A failed check prints the figures and the
   first problems, then exits with status 1.
4. Baseline, same backend, same rows (prepared before timing): the raw events inserted into a
   plain table shaped like ``store_events`` (same keys, no projection) in one transaction —
   ``executemany`` on a WAL file with ``synchronous=FULL`` (the server's settings) for SQLite;
   ``copy_records_to_table`` (and, for reference, ``executemany``) with asyncpg for
   PostgreSQL. The ratio ``ingest events/s ÷ baseline rows/s`` is the figure to compare
   across runs: this machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import msgpack
import sqlalchemy as sa
from rich.console import Console

from backoffice.demo.processes import free_port
from bench.agent_sales import (
    Figures,
    cpu_seconds,
    files_mb,
    json_line,
    percentile,
    print_figures,
    rss_mb,
)
from bench.central import (
    RssSampler,
    code_version,
    fresh_postgres_database,
    running_server,
    server_init,
    write_server_config,
)
from server.admin import enroll_store
from server.storage import Storage
from server.storage.tables import (
    catalog_products,
    reconciliation_items,
    sale_lines,
    sales,
    stock_levels,
    store_events,
    stores,
)
from store_agent.sync_loop import backoff_seconds
from sync import CONTENT_TYPE, PUSH_PATH, PushBatch, decode_push_ack, encode_push
from sync.events import GENESIS_HASH, StoreEvent, canonical, canonical_event_bytes, chain_hash

STORE_TIMEZONE = "Europe/Berlin"
FIRST_DAY = date(2026, 11, 2)
SALES_PER_DAY = 150  # per store: a store's events move to the next business day after these
LINES_PER_SALE = 5
STOCK_UNITS = 1_000_000
SYNC_INTERVAL_S, MAX_BACKOFF_S = 30, 300  # the agent's defaults, for its retry backoff
AGENT_TIMEOUT_MS = 30_000  # head_office.timeout_seconds, the agent's default
RAW_COLUMNS = ("store_id", "seq", "event_id", "kind", "recorded_at", "business_date", "payload",
               "hash", "received_at")


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price_minor: int
    tax_rate: str


@dataclass(frozen=True, slots=True)
class StoreLoad:
    """One store's pushes, built before timing."""

    store_id: str
    bodies: tuple[bytes, ...]


def catalog(size: int) -> list[Product]:
    return [Product(sku=f"{100000 + n}", name=f"Product {n} {('milk', 'bread', 'soap')[n % 3]}",
                    price_minor=99 + (n * 37) % 900, tax_rate=("7", "19")[n % 2])
            for n in range(size)]


# --- the store's events, as its agent records and pushes them ---

def sale_payload(rng: random.Random, products: Sequence[Product], receipt_no: int,
                 terminal_id: str) -> dict[str, Any]:
    """A 5-line ``sale.completed`` payload shaped like store_agent/sales.py records it: prices
    from the catalog, tax added per rate (half up), paid cash with change or by card."""
    lines, taxable = [], Counter[str]()
    for line_no, product in enumerate(rng.sample(products, LINES_PER_SALE), start=1):
        quantity = rng.choice((1, 1, 1, 2, 3))
        amount = quantity * product.price_minor
        taxable[product.tax_rate] += amount
        lines.append({"line_no": line_no, "sku": product.sku, "name": product.name,
                      "quantity": str(quantity), "unit_price": product.price_minor,
                      "list_price": product.price_minor, "gross": amount, "discount": 0,
                      "discount_reason": "", "override_reason": "", "price_source": "catalog",
                      "amount": amount, "tax_rate": product.tax_rate})
    taxes: list[dict[str, Any]] = [
        {"rate": rate, "taxable": base, "tax": (base * int(rate) + 50) // 100}
        for rate, base in sorted(taxable.items())]
    subtotal = sum(taxable.values())
    tax = sum(t["tax"] for t in taxes)
    total = subtotal + tax
    tender: dict[str, Any]
    if rng.random() < 0.6:
        tender = {"type": "cash", "amount": (total // 1000 + 1) * 1000, "reference": "",
                  "approval_code": ""}
    else:
        tender = {"type": "card", "amount": total, "reference": f"card-{rng.randrange(10**8)}",
                  "approval_code": f"{rng.randrange(10**6):06d}"}
    return {
        "sale_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "terminal_id": terminal_id, "receipt_no": receipt_no, "cashier": "E100",
        "session_id": f"session-{terminal_id}", "drawer_id": terminal_id, "currency": "USD",
        "store_name": "", "prices_include_tax": False, "request_digest": "0" * 64,
        "lines": lines, "taxes": taxes, "subtotal": subtotal, "discount": 0, "tax": tax,
        "total": total, "tenders": [tender], "change_due": tender["amount"] - total,
        "approvals": []}


def store_load(store_id: str, seed: int, batches: int, per_batch: int,
               products: Sequence[Product]) -> StoreLoad:
    """The store's push bodies: ``batches`` x ``per_batch`` sales chained from genesis."""
    rng = random.Random(seed)
    previous, seq, bodies = GENESIS_HASH, 0, []
    head = batches * per_batch
    for _ in range(batches):
        events = []
        for _ in range(per_batch):
            seq += 1
            day = (FIRST_DAY + timedelta(days=(seq - 1) // SALES_PER_DAY)).isoformat()
            second = 7 * 3600 + ((seq - 1) % SALES_PER_DAY) * (12 * 3600 // SALES_PER_DAY)
            recorded_at = (f"{day}T{second // 3600:02d}:{second // 60 % 60:02d}:"
                           f"{second % 60:02d}.{rng.randrange(10**6):06d}Z")
            terminal_id = f"T{1 + seq % 3}"
            payload = canonical(sale_payload(rng, products, seq, terminal_id))
            event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            digest = chain_hash(previous, canonical_event_bytes(
                store_id, seq, event_id, "sale.completed", recorded_at, day, payload,
                payload_is_canonical=True))
            events.append(StoreEvent(store_id=store_id, seq=seq, event_id=event_id,
                                     kind="sale.completed", recorded_at=recorded_at,
                                     business_date=day, payload=payload, hash=digest))
            previous = digest
        bodies.append(encode_push(PushBatch(store_id=store_id, events=tuple(events),
                                            head_seq=head)))
    return StoreLoad(store_id=store_id, bodies=tuple(bodies))


def build_loads(stores_count: int, batches: int, per_batch: int,
                products: Sequence[Product]) -> list[StoreLoad]:
    return [store_load(f"S{n:04d}", n, batches, per_batch, products)
            for n in range(1, stores_count + 1)]


# --- head office: a migrated database with a catalog, enrolled stores and stock ---

async def prepare_central(config: Path, url: str, loads: Sequence[StoreLoad],
                          products: Sequence[Product]) -> tuple[dict[str, str], Figures]:
    """Migrate (``server init``), load the catalog, enroll the stores, stock them; return the
    sync tokens and the setup times."""
    started = time.perf_counter()
    await server_init(config)
    migrate_s = time.perf_counter() - started
    storage = Storage(url)
    try:
        now = datetime.now(UTC)
        async with storage.write() as conn:
            await conn.execute(catalog_products.insert(), [
                {"sku": p.sku, "name": p.name, "price_minor": p.price_minor,
                 "tax_rate": p.tax_rate, "barcodes": [], "active": True, "updated_at": now}
                for p in products])
        started = time.perf_counter()
        tokens = {load.store_id: await enroll_store(storage, load.store_id,
                                                    f"Store {load.store_id}", STORE_TIMEZONE)
                  for load in loads}
        enroll_s = time.perf_counter() - started
        async with storage.write() as conn:
            for start in range(0, len(loads), 50):
                await conn.execute(stock_levels.insert(), [
                    {"store_id": load.store_id, "sku": p.sku,
                     "on_hand_milli": STOCK_UNITS * 1000}
                    for load in loads[start:start + 50] for p in products])
    finally:
        await storage.dispose()
    return tokens, {"migrate_s": migrate_s, "enroll_s": enroll_s}


# --- the push: every store at once, one batch in flight per store ---

@dataclass
class PushLog:
    latencies_ms: list[float]
    failures: list[str]
    statuses: Counter[int]
    batch_s: list[float] = field(default_factory=list)  # first attempt to acceptance
    stores_done: int = 0
    most_attempts: int = 1
    shed: int = 0  # 503 with Retry-After: the server's admission control turned it back


def seconds(retry_after: str | None) -> float:
    try:
        return min(float(MAX_BACKOFF_S), float(retry_after)) if retry_after else 0.0
    except ValueError:
        return 0.0


async def push_store(client: aiohttp.ClientSession, load: StoreLoad, token: str,
                     per_batch: int, log: PushLog) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE}
    rng = random.Random(load.store_id)
    for number, body in enumerate(load.bodies, start=1):
        attempt, first_sent = 0, time.perf_counter()
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                async with client.post(PUSH_PATH, data=body, headers=headers) as resp:
                    status, answer = resp.status, await resp.read()
                    retry_after = seconds(resp.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, answer, retry_after = 0, repr(exc).encode(), 0.0
            log.latencies_ms.append((time.perf_counter() - started) * 1000)
            log.statuses[status] += 1
            if status == 200:
                log.batch_s.append(time.perf_counter() - first_sent)
                ack = decode_push_ack(answer)
                # A retry of a batch the server took before the connection broke: applied 0.
                applied_ok = ack.applied == per_batch or (attempt > 1 and ack.applied == 0)
                if ack.high_water != number * per_batch or not applied_ok:
                    log.failures.append(
                        f"{load.store_id} batch {number}: high water {ack.high_water}, "
                        f"applied {ack.applied}; expected {number * per_batch}, {per_batch}")
                break
            if status == 503 and retry_after > 0:
                # Load shedding by design: "busy, come back in N s", nothing read or changed.
                log.shed += 1
            else:
                log.failures.append(f"{load.store_id} batch {number} attempt {attempt}: HTTP "
                                    f"{status}: {answer[:300].decode('utf-8', 'replace')}")
            log.most_attempts = max(log.most_attempts, attempt + 1)
            # As an agent's sync loop would: when head office said when to come back, then
            # (with jitter); otherwise its exponential backoff.
            if status == 503 and retry_after > 0:
                await asyncio.sleep(retry_after * rng.uniform(1.0, 1.5))
            else:
                await asyncio.sleep(backoff_seconds(attempt, SYNC_INTERVAL_S, MAX_BACKOFF_S,
                                                    rng))
    log.stores_done += 1


async def push_all(url: str, loads: Sequence[StoreLoad], tokens: dict[str, str],
                   per_batch: int, concurrency: int, server_pid: int,
                   deadline_s: float) -> tuple[Figures, PushLog]:
    log = PushLog(latencies_ms=[], failures=[], statuses=Counter())
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=60, sock_read=deadline_s)
    async with aiohttp.ClientSession(base_url=url, connector=connector,
                                     timeout=timeout) as client:
        with RssSampler(server_pid) as sampler:
            server_cpu, bench_cpu = cpu_seconds(server_pid), time.process_time()
            started = time.perf_counter()
            tasks = [asyncio.create_task(push_store(client, load, tokens[load.store_id],
                                                    per_batch, log)) for load in loads]
            _, pending = await asyncio.wait(tasks, timeout=deadline_s)
            elapsed = time.perf_counter() - started
            for task in pending:  # stuck past the deadline: given up, and said so
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if pending:
                log.failures.append(f"{len(pending)} stores still pushing after the "
                                    f"{deadline_s:.0f} s deadline; cancelled")
            server_cpu = cpu_seconds(server_pid) - server_cpu
            bench_cpu = time.process_time() - bench_cpu
        events = sum(len(load.bodies) for load in loads) * per_batch
        latencies = log.latencies_ms
        figures: Figures = {
            "push_s": elapsed,
            "events_per_s": events / elapsed,
            "requests_per_s": len(latencies) / elapsed,
            "push_p50_ms": percentile(latencies, 50),
            "push_p99_ms": percentile(latencies, 99),
            "push_max_ms": max(latencies),
            "requests_over_agent_timeout_30s": sum(ms > AGENT_TIMEOUT_MS for ms in latencies),
            "batch_accepted_p50_s": percentile(log.batch_s, 50) if log.batch_s else 0.0,
            "batch_accepted_p99_s": percentile(log.batch_s, 99) if log.batch_s else 0.0,
            "batch_accepted_max_s": max(log.batch_s, default=0.0),
            "answers": len(latencies),
            "non_200_answers": len(latencies) - log.statuses[200],
            "shed_503_retry_after": log.shed,
            "answers_by_status": " ".join(f"{k}:{v}" for k, v in sorted(log.statuses.items())),
            "stores_finished": log.stores_done,
            "most_attempts_for_a_batch": log.most_attempts,
            "server_cpu_s": server_cpu,
            "server_cpu_ms_per_event": server_cpu * 1000 / events,
            "bench_cpu_s": bench_cpu,
            "server_rss_mb": rss_mb(server_pid),
            "server_peak_rss_mb": max(sampler.peak_mb, rss_mb(server_pid, "VmHWM")),
        }
    return figures, log


async def central_counts(url: str) -> dict[str, int]:
    storage = Storage(url)
    try:
        async with storage.read() as conn:
            counts = {}
            for name, table in (("store_events", store_events), ("sales", sales),
                                ("sale_lines", sale_lines),
                                ("reconciliation_items", reconciliation_items)):
                counts[name] = int((await conn.execute(
                    sa.select(sa.func.count()).select_from(table))).scalar_one())
            row = (await conn.execute(sa.select(sa.func.coalesce(sa.func.sum(stores.c.high_water),
                                                                 0),
                                                sa.func.min(stores.c.high_water),
                                                sa.func.max(stores.c.high_water)))).one()
            counts |= {"high_water_sum": int(row[0]), "high_water_min": int(row[1]),
                       "high_water_max": int(row[2])}
    finally:
        await storage.dispose()
    return counts


# --- the baseline: the same rows, raw, one transaction ---

def raw_rows(loads: Sequence[StoreLoad], received_at: datetime) -> list[tuple[Any, ...]]:
    """The pushed events as plain rows (payload as JSON text), decoded from the bodies."""
    rows = []
    for load in loads:
        for body in load.bodies:
            message = msgpack.unpackb(body, raw=False)
            rows += [(message["store_id"], seq, event_id, kind, at, date.fromisoformat(day),
                      json.dumps(payload, separators=(",", ":"), ensure_ascii=False), digest,
                      received_at)
                     for seq, event_id, kind, at, day, payload, digest in message["events"]]
    return rows


def sqlite_baseline(path: Path, rows: Sequence[tuple[Any, ...]]) -> Figures:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE raw_events (store_id TEXT NOT NULL, seq INTEGER NOT NULL, "
                     "event_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, recorded_at TEXT NOT "
                     "NULL, business_date TEXT NOT NULL, payload TEXT NOT NULL, hash TEXT NOT "
                     "NULL, received_at TEXT NOT NULL, PRIMARY KEY (store_id, seq))")
        text_rows = [(*r[:5], r[5].isoformat(), r[6], r[7], r[8].isoformat(sep=" "))
                     for r in rows]
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO raw_events ({', '.join(RAW_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(RAW_COLUMNS))})", text_rows)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        held = conn.execute("SELECT COUNT(*) FROM raw_events").fetchone()[0]
    finally:
        conn.close()
    if held != len(rows):
        raise RuntimeError(f"baseline table holds {held} rows, {len(rows)} inserted")
    return {"baseline": "sqlite3 executemany, 1 tx, WAL, synchronous=FULL",
            "baseline_rows": len(rows), "baseline_s": elapsed,
            "baseline_rows_per_s": len(rows) / elapsed}


PG_RAW_TABLE = ("CREATE TABLE {name} (store_id varchar(32) NOT NULL, seq bigint NOT NULL, "
                "event_id varchar(64) NOT NULL UNIQUE, kind varchar(64) NOT NULL, "
                "recorded_at varchar(64) NOT NULL, business_date date NOT NULL, "
                "payload jsonb NOT NULL, hash varchar(64) NOT NULL, "
                "received_at timestamptz NOT NULL, PRIMARY KEY (store_id, seq))")


async def postgres_baseline(url: str, rows: Sequence[tuple[Any, ...]]) -> Figures:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(PG_RAW_TABLE.format(name="raw_events_copy"))
        await conn.execute(PG_RAW_TABLE.format(name="raw_events_many"))
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("raw_events_copy", records=rows,
                                             columns=list(RAW_COLUMNS))
        copy_s = time.perf_counter() - started
        started = time.perf_counter()
        async with conn.transaction():
            await conn.executemany(
                f"INSERT INTO raw_events_many ({', '.join(RAW_COLUMNS)}) VALUES "
                f"({', '.join(f'${n}' for n in range(1, len(RAW_COLUMNS) + 1))})", rows)
        many_s = time.perf_counter() - started
        for table in ("raw_events_copy", "raw_events_many"):
            held = await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
            if held != len(rows):
                raise RuntimeError(f"{table} holds {held} rows, {len(rows)} inserted")
    finally:
        await conn.close()
    return {"baseline": "asyncpg copy_records_to_table, 1 tx",
            "baseline_rows": len(rows), "baseline_s": copy_s,
            "baseline_rows_per_s": len(rows) / copy_s,
            "baseline_executemany_s": many_s,
            "baseline_executemany_rows_per_s": len(rows) / many_s}


# --- one backend, end to end ---

async def run_backend(backend: str, folder: Path, url: str, loads: Sequence[StoreLoad],
                      products: Sequence[Product], per_batch: int, concurrency: int,
                      deadline_s: float, console: Console) -> tuple[Figures, list[str]]:
    port = free_port()
    config = write_server_config(folder, url, port)
    console.print(f"[bold]{backend}[/]: migrating, enrolling {len(loads):,} stores, stocking "
                  f"them ...")
    tokens, setup = await prepare_central(config, url, loads, products)
    base = f"http://127.0.0.1:{port}"
    console.print(f"[bold]{backend}[/]: {len(loads):,} stores pushing "
                  f"{sum(len(load.bodies) for load in loads) * per_batch:,} events ...")
    async with running_server(config, port, folder / "server.log") as server:
        pushed, log = await push_all(base, loads, tokens, per_batch, concurrency,
                                     server.process.pid, deadline_s)
    events = sum(len(load.bodies) for load in loads) * per_batch
    counts = await central_counts(url)
    expected_head = len(loads[0].bodies) * per_batch
    problems = [f"{backend}: {failure}" for failure in log.failures[:5]]
    if log.failures:
        problems.append(f"{backend}: {len(log.failures)} push problems in all; answers by "
                        f"status: {dict(log.statuses)}")
    for name, want in (("store_events", events), ("sales", events),
                       ("sale_lines", events * LINES_PER_SALE), ("high_water_sum", events),
                       ("high_water_min", expected_head), ("high_water_max", expected_head)):
        if counts[name] != want:
            problems.append(f"{backend}: {name} is {counts[name]:,}, expected {want:,}")

    console.print(f"[bold]{backend}[/]: baseline, the same {events:,} rows raw ...")
    rows = raw_rows(loads, datetime.now(UTC))
    if backend == "sqlite":
        baseline = sqlite_baseline(folder / "raw.db", rows)
    else:
        baseline = await postgres_baseline(url, rows)
    del rows
    figures: Figures = {
        "stores": len(loads), "batches_per_store": len(loads[0].bodies),
        "events_per_batch": per_batch, "events": events, "connector_limit": concurrency,
        **setup, **pushed,
        "first_problem": log.failures[0][:240] if log.failures else "",
        "store_events_rows": counts["store_events"], "sales_rows": counts["sales"],
        "sale_lines_rows": counts["sale_lines"],
        "reconciliation_items": counts["reconciliation_items"],
        "checks_ok": not problems,
        **baseline,
        "ingest_vs_baseline": float(pushed["events_per_s"]) / float(
            baseline["baseline_rows_per_s"]),
    }
    if "baseline_executemany_rows_per_s" in baseline:
        figures["ingest_vs_baseline_executemany"] = float(pushed["events_per_s"]) / float(
            baseline["baseline_executemany_rows_per_s"])
    if backend == "sqlite":
        figures["central_db_mb"] = files_mb(folder, "central.db*")
    return figures, problems


async def main() -> None:
    parser = argparse.ArgumentParser(
        description="Head-office ingest: many stores pushing at once into a real server, on "
                    "SQLite and PostgreSQL, against a raw bulk insert of the same rows.")
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--batches-per-store", type=int, default=4)
    parser.add_argument("--events-per-batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1000,
                        help="the client connector's limit on connections (all stores share it)")
    parser.add_argument("--catalog", type=int, default=200, help="products in the catalog")
    parser.add_argument("--deadline", type=float, default=1800.0,
                        help="seconds the whole push may take per backend before the stores "
                             "still pushing are cancelled (and the checks fail)")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 50 stores")
    args = parser.parse_args()
    if args.quick:
        args.stores = 50
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.stores < 1 or args.batches_per_store < 1 or args.events_per_batch < 1 \
            or args.concurrency < 1 or args.catalog < LINES_PER_SALE \
            or not backends or set(backends) - {"sqlite", "postgresql"}:
        parser.error("need stores, batches, events and concurrency >= 1, a catalog of at least "
                     "5 products, backends from sqlite,postgresql")

    console = Console()
    run_started = time.perf_counter()
    products = catalog(args.catalog)
    console.print(f"building {args.stores:,} stores x {args.batches_per_store} batches x "
                  f"{args.events_per_batch} hash-chained 5-line sales ...")
    started = time.perf_counter()
    loads = build_loads(args.stores, args.batches_per_store, args.events_per_batch, products)
    body_bytes = sum(len(body) for load in loads for body in load.bodies)
    common: Figures = {"prebuild_s": time.perf_counter() - started,
                       "bodies_mb": body_bytes / 2**20,
                       "bytes_per_event": body_bytes / (args.stores * args.batches_per_store
                                                        * args.events_per_batch),
                       "bench_rss_mb": rss_mb()}
    print_figures(console, "pre-built push bodies (reused for every backend)", common)

    results: dict[str, Figures] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for backend in backends:
            folder = Path(tmp) / backend
            folder.mkdir()
            if backend == "sqlite":
                figures, found = await run_backend(
                    backend, folder, f"sqlite:///{folder / 'central.db'}", loads, products,
                    args.events_per_batch, args.concurrency, args.deadline, console)
            else:
                async with fresh_postgres_database("bench_ingest") as url:
                    figures, found = await run_backend(
                        backend, folder, url, loads, products, args.events_per_batch,
                        args.concurrency, args.deadline, console)
            print_figures(console, f"{backend}: {args.stores:,} stores pushing at once", figures)
            for problem in found:
                console.print(f"[red]check failed:[/] {problem}")
            results[backend] = figures
            problems += found
    final: Figures = {"benchmark": "server_ingest", "cpus": os.cpu_count() or 0,
                      "quick": args.quick, "code": code_version(), **common}
    for backend, figures in results.items():
        final |= {f"{backend}_{key}": value for key, value in figures.items()}
    final["checks_ok"] = not problems
    final["wall_total_s"] = time.perf_counter() - run_started
    print(json_line(final), flush=True)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main())
