"""``backoffice demo``: a whole chain on one machine, as real processes on loopback.

A server on embedded SQLite, N store agents (each its own process and ledger), two terminals
per store ringing up sales concurrently, one store cut off from head office for the first
half of each day (through a loopback link proxy), ``backoffice agent sync`` run as the
nightly job would, and a reconciliation of every store ledger against head office.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from rich import box
from rich.console import Console
from rich.table import Table

from backoffice.demo.back_office import (
    TRANSFER_ID,
    move_transfers,
    order_transfer,
    publish_catalog,
    receive_opening_stock,
    show_books,
    show_head_office,
    take_a_return,
)
from backoffice.demo.lane import Lane, checkout, wait_until_ready
from backoffice.demo.netproxy import LinkProxy
from backoffice.demo.processes import (
    Service,
    free_port,
    run_command,
    start_service,
    stop_service,
)
from backoffice.demo.shopping import (
    CASHIERS,
    MANAGER,
    MANAGER_PIN,
    sale_request,
    write_catalog_csv,
    write_employees_csv,
)
from backoffice.demo.shopping import basket as random_basket
from config import load_server_settings
from drivers.emulators import NetworkPrinter, preview_png
from drivers.status import PrinterState
from server.admin import enroll_store, init_database
from server.storage import Storage
from sync.money import format_minor

TIMEZONES = ("America/New_York", "Europe/Berlin", "America/Los_Angeles", "Europe/London",
             "Asia/Tokyo", "Australia/Sydney")
TERMINALS = ("T1", "T2")
WRONG_TOKEN = "bos_this-is-not-the-token-head-office-issued"


@dataclass(frozen=True)
class DemoOptions:
    stores: int = 3
    days: int = 1
    sales_per_day: int = 60
    wrong_token_store: str | None = None
    keep: bool = False
    workdir: Path | None = None
    seed: int = 20261124


@dataclass
class DemoStore:
    store_id: str
    timezone: str
    folder: Path
    port: int
    proxy: LinkProxy
    sync_token: str
    terminal_tokens: dict[str, str]
    offline_part_of_day: bool
    agent: Service | None = None
    sync_failures: list[str] = field(default_factory=list)
    printer: NetworkPrinter | None = None
    lane: Lane | None = None  # the first store's till T1 has every device, emulated

    @property
    def config_path(self) -> Path:
        return self.folder / "store.toml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def run_demo(options: DemoOptions, console: Console) -> int:
    if options.wrong_token_store and not _store_ids(options.stores).__contains__(
            options.wrong_token_store):
        console.print(f"[red]error:[/] --wrong-token {options.wrong_token_store}: the demo's "
                      f"stores are {', '.join(_store_ids(options.stores))}")
        return 2
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="backoffice-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    services: list[Service] = []
    stores: list[DemoStore] = []
    try:
        return await _run(options, console, workdir, services, stores)
    finally:
        for store in stores:
            await store.proxy.down()
            if store.printer is not None:
                await store.printer.stop()
            if store.lane is not None:
                store.lane.close()
        for service in services + [s.agent for s in stores if s.agent]:
            await stop_service(service)
        if options.workdir is None and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)


async def _run(options: DemoOptions, console: Console, workdir: Path, services: list[Service],
               stores: list[DemoStore]) -> int:
    console.rule("[bold]retail-backoffice demo")
    console.print(f"working folder: {workdir}")
    server_port = free_port()
    server_toml = workdir / "server.toml"
    server_toml.write_text(f'[http]\nport = {server_port}\n\n[database]\n'
                           f'url = "sqlite:///central.db"\n\n[logging]\nlevel = "warning"\n')
    settings = load_server_settings(server_toml)
    storage = Storage(settings.database.url)
    try:
        init = await init_database(storage)
        admin_token = init.admin_token or ""
        catalog_csv = workdir / "catalog.csv"
        write_catalog_csv(catalog_csv)
        employees_csv = workdir / "employees.csv"
        write_employees_csv(employees_csv)
        offline_index = 1 if options.stores > 1 else 0
        for index, store_id in enumerate(_store_ids(options.stores)):
            timezone = TIMEZONES[index % len(TIMEZONES)]
            token = await enroll_store(storage, store_id, f"Demo store {index + 1}", timezone)
            if store_id == options.wrong_token_store:
                token = WRONG_TOKEN
            folder = workdir / store_id
            folder.mkdir(exist_ok=True)
            stores.append(DemoStore(
                store_id=store_id, timezone=timezone, folder=folder, port=free_port(),
                proxy=LinkProxy(free_port(), server_port), sync_token=token,
                terminal_tokens={t: f"{store_id.lower()}-{t.lower()}-demo-terminal-token"
                                 for t in TERMINALS},
                offline_part_of_day=index == offline_index,
                printer=await NetworkPrinter().start(), lane=Lane() if index == 0 else None))
    finally:
        await storage.dispose()
    server_url = f"http://127.0.0.1:{server_port}"
    services.append(await start_service("server", ["server", "run", "--config", str(server_toml)],
                                        server_url, workdir / "server.log"))
    console.print(f"head office running at {server_url} (SQLite: {settings.database.url})")
    await publish_catalog(server_url, admin_token)
    if len(stores) > 1:
        # Coffee and wine from the first store to the last (an always-online one).
        await order_transfer(server_url, admin_token, stores[0].store_id,
                             stores[-1].store_id)
        console.print(f"head office ordered transfer {TRANSFER_ID}: "
                      f"{stores[0].store_id} → {stores[-1].store_id}")
    for store in stores:
        _write_store_config(store, _day_start(options, 0, store.timezone))
        await _checked(console, ["agent", "init", "--config", str(store.config_path)])
        await _checked(console, ["agent", "import-catalog", str(catalog_csv), "--config",
                                 str(store.config_path)])
        await _checked(console, ["agent", "import-employees", str(employees_csv), "--config",
                                 str(store.config_path)])
        await store.proxy.up()
    rng = random.Random(options.seed)
    console.print("each store has an emulated ESC/POS receipt printer on a loopback port "
                  "(network printer protocol); receipts print from each store's ledger queue")
    if stores[0].lane is not None:
        console.print(f"store {stores[0].store_id}, lane T1: serial scanner, customer display, "
                      "scale and a serial cash drawer, each emulated on a pty pair and driven "
                      "by the agent's drivers")
    for day in range(options.days):
        await _trading_day(options, console, stores, day, rng)
    return await _reconcile(options, console, stores, server_url, admin_token)


async def _trading_day(options: DemoOptions, console: Console, stores: list[DemoStore], day: int,
                       rng: random.Random) -> None:
    for store in stores:
        _write_store_config(store, _day_start(options, day, store.timezone))
        store.agent = await start_service(
            f"agent {store.store_id}", ["agent", "run", "--config", str(store.config_path)],
            store.url, store.folder / "agent.log")
    label = (date.today() - timedelta(days=options.days - 1 - day)).isoformat()
    console.rule(f"trading day {day + 1} of {options.days} ({label})")
    offline = [s for s in stores if s.offline_part_of_day]
    for store in offline:
        await store.proxy.down()
        console.print(f"store {store.store_id}: link to head office is [yellow]down[/] "
                      "this morning")
    await asyncio.gather(*(_open_store(s, day) for s in stores))
    for store in stores:
        if store.lane is not None:
            token = store.terminal_tokens["T1"]
            await wait_until_ready(store.url, token)
            for _ in range(3):
                await checkout(store.lane, store.url, token, rng)
    half = options.sales_per_day // 2
    sold = await asyncio.gather(*(_ring_up(s, half, rng) for s in stores))
    console.print(f"rang up {half} sales in each store; midday sync:")
    await _sync_all(console, stores)
    for store in offline:
        await store.proxy.up()
        console.print(f"store {store.store_id}: link to head office is [green]back up[/]")
    jammed = stores[-1]
    if jammed.printer is not None:
        jammed.printer.state = PrinterState.PAPER_OUT
        console.print(f"store {jammed.store_id}: receipt printer [yellow]out of paper[/] this "
                      "afternoon — the tills keep selling")
    await asyncio.gather(*(_ring_up(s, options.sales_per_day - half, rng) for s in stores))
    if jammed.printer is not None:
        waiting = await _receipts_waiting(jammed)
        jammed.printer.state = PrinterState.READY
        await _until_printed(jammed)
        console.print(f"store {jammed.store_id}: paper replaced; the {waiting} receipts that "
                      "waited in the ledger's print queue came out in order")
    closings = await asyncio.gather(*(_close_store(s, day, first_sale)
                                      for s, first_sale in zip(stores, sold, strict=True)))
    console.print(f"rang up {options.sales_per_day - half} more sales in each store; tills "
                  f"counted (Z reports: {', '.join(closings)}), business days closed; "
                  "end-of-day sync:")
    await _sync_all(console, stores)
    last_day = day == options.days - 1
    if not (last_day and options.keep):
        for store in stores:
            if store.agent:
                await stop_service(store.agent)
                store.agent = None


async def _receipts_waiting(store: DemoStore) -> int:
    headers = {"Authorization": f"Bearer {store.terminal_tokens['T1']}"}
    async with aiohttp.ClientSession() as session, session.get(
            f"{store.url}/api/v1/status", headers=headers) as resp:
        status = await _json(resp, 200)
    return int(status["devices"]["receipt_printer"]["queued"])


async def _until_printed(store: DemoStore, seconds: float = 30) -> None:
    """Wait for the store's print queue to empty (the printer retries every second)."""
    for _ in range(int(seconds / 0.2)):
        if await _receipts_waiting(store) == 0:
            return
        await asyncio.sleep(0.2)


async def _ring_up(store: DemoStore, count: int,
                   rng: random.Random) -> tuple[str, str] | None:
    """Two terminals ringing up ``count`` sales between them, concurrently; returns the first
    sale recorded and the quantity of its first line (None for no sale)."""
    recorded: list[tuple[str, str]] = []
    plans = [(TERMINALS[i % len(TERMINALS)], random_basket(rng), random.Random(rng.random()))
             for i in range(count)]
    async with aiohttp.ClientSession(base_url=store.url) as session:
        async def terminal(terminal_id: str) -> None:
            headers = {"Authorization": f"Bearer {store.terminal_tokens[terminal_id]}"}
            for tid, lines, sale_rng in plans:
                if tid != terminal_id:
                    continue
                async with session.post("/api/v1/quotes", json={"lines": lines},
                                        headers=headers) as resp:
                    quote = await _json(resp, 200)
                sale = sale_request(sale_rng, lines, quote["total"])
                async with session.post("/api/v1/sales", json=sale, headers=headers) as resp:
                    await _json(resp, 201)
                recorded.append((sale["sale_id"], str(lines[0]["quantity"])))
                if sale_rng.random() < 0.05:
                    # A terminal that lost the answer retries: the agent answers the same sale.
                    async with session.post("/api/v1/sales", json=sale, headers=headers) as resp:
                        await _json(resp, 200)

        await asyncio.gather(*(terminal(t) for t in TERMINALS))
    return recorded[0] if recorded else None


async def _open_store(store: DemoStore, day: int) -> None:
    """Each cashier clocks in and opens a cash session with a float on their terminal; on the
    first day the opening stock is received."""
    async with aiohttp.ClientSession(base_url=store.url) as session:
        if day == 0:
            await receive_opening_stock(session, {
                "Authorization": f"Bearer {store.terminal_tokens[TERMINALS[0]]}"},
                store.store_id)
        for index, terminal_id in enumerate(TERMINALS):
            headers = {"Authorization": f"Bearer {store.terminal_tokens[terminal_id]}"}
            cashier = CASHIERS[index]
            async with session.post("/api/v1/punches", headers=headers, json={
                    "punch_id": f"{store.store_id}-d{day}-{cashier}-in", "employee": cashier,
                    "action": "in"}) as resp:
                await _json(resp, 201)
            async with session.post("/api/v1/cash-sessions", headers=headers, json={
                    "session_id": _session_id(store, day, terminal_id), "employee": cashier,
                    "float": "150.00"}) as resp:
                await _json(resp, 201)


async def _close_store(store: DemoStore, day: int, first_sale: tuple[str, str] | None) -> str:
    """Take a return of the day's first sale, ship and receive transfers, count each till (as
    expected: no over/short), close the business day, clock out."""
    over_short = []
    async with aiohttp.ClientSession(base_url=store.url) as session:
        manager = {"Authorization": f"Bearer {store.terminal_tokens[TERMINALS[0]]}"}
        if first_sale:
            await take_a_return(session, manager, *first_sale, store.store_id, day)
        moved = await move_transfers(session, manager, store.store_id, day)
        business_date = ""
        for index, terminal_id in enumerate(TERMINALS):
            headers = {"Authorization": f"Bearer {store.terminal_tokens[terminal_id]}"}
            session_id = _session_id(store, day, terminal_id)
            async with session.get(f"/api/v1/cash-sessions/{session_id}/x-report",
                                   headers=headers) as resp:
                x_report = await _json(resp, 200)
            business_date = x_report["business_date"]
            async with session.post(f"/api/v1/cash-sessions/{session_id}/close",
                                    headers=headers, json={
                                        "employee": CASHIERS[index],
                                        "counted": {"cash": x_report["expected"]["cash"]}}
                                    ) as resp:
                z_report = await _json(resp, 201)
            over_short.append(z_report["over_short"]["cash"])
            async with session.post("/api/v1/punches", headers=headers, json={
                    "punch_id": f"{store.store_id}-d{day}-{CASHIERS[index]}-out",
                    "employee": CASHIERS[index], "action": "out"}) as resp:
                await _json(resp, 201)
        headers = {"Authorization": f"Bearer {store.terminal_tokens[TERMINALS[0]]}"}
        async with session.post(f"/api/v1/business-days/{business_date}/close", headers=headers,
                                json={"manager": {"employee_id": MANAGER, "pin": MANAGER_PIN}}
                                ) as resp:
            await _json(resp, 201)
    return f"{store.store_id} over/short {'/'.join(over_short)}" + \
        (f" ({', '.join(moved)})" if moved else "")


def _session_id(store: DemoStore, day: int, terminal_id: str) -> str:
    return f"{store.store_id}-day{day + 1}-{terminal_id}"


async def _sync_all(console: Console, stores: list[DemoStore]) -> None:
    results = await asyncio.gather(*(run_command(["agent", "sync", "--config",
                                                  str(s.config_path)]) for s in stores))
    for store, (status, output) in zip(stores, results, strict=True):
        text = " ".join(output.split())
        if status == 0:
            console.print(f"  [green]✓[/] {text}")
        else:
            reason = text.removeprefix("error: ")
            store.sync_failures.append(reason)
            console.print(f"  [yellow]✗[/] store {store.store_id}: sync exited {status}: {reason}")


async def _reconcile(options: DemoOptions, console: Console, stores: list[DemoStore],
                     server_url: str, admin_token: str) -> int:
    for store in stores:
        if store.agent is None:
            store.agent = await start_service(
                f"agent {store.store_id}", ["agent", "run", "--config", str(store.config_path)],
                store.url, store.folder / "agent.log")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server_url}/api/v1/reports/sales-by-store",
                               headers={"Authorization": f"Bearer {admin_token}"}) as resp:
            head_office = (await _json(resp, 200))["items"]
        ledgers = {}
        for store in stores:
            headers = {"Authorization": f"Bearer {store.terminal_tokens['T1']}"}
            async with session.get(f"{store.url}/api/v1/sales/summary", headers=headers) as resp:
                summary = await _json(resp, 200)
            async with session.get(f"{store.url}/api/v1/status", headers=headers) as resp:
                status = await _json(resp, 200)
            ledgers[store.store_id] = (summary["days"], status["events"]["pending"])
    verified = await asyncio.gather(*(run_command(["agent", "verify", "--config",
                                                   str(s.config_path)]) for s in stores))
    sound = {s.store_id: status == 0 for s, (status, _) in zip(stores, verified, strict=True)}
    table = Table(title="reconciliation: store ledger vs head office", box=box.SIMPLE_HEAD)
    table.add_column("store", no_wrap=True)
    table.add_column("business date", no_wrap=True)
    for column in ("ledger sales", "ledger total", "HQ sales", "HQ total", "unsynced"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("verified", no_wrap=True)
    table.add_column("", no_wrap=True)
    all_ok = True
    for store in stores:
        days, pending = ledgers[store.store_id]
        held = {r["business_date"]: r for r in head_office if r["store_id"] == store.store_id}
        for row in days:
            ho = held.get(row["business_date"], {"count": 0, "total_minor": 0})
            ok = (ho["count"] == row["count"] and ho["total_minor"] == row["total_minor"]
                  and pending == 0 and sound[store.store_id])
            all_ok &= ok
            table.add_row(store.store_id, row["business_date"], str(row["count"]),
                          format_minor(row["total_minor"], 2), str(ho["count"]),
                          format_minor(ho["total_minor"], 2), str(pending),
                          "yes" if sound[store.store_id] else "[red]NO[/]",
                          "[green]ok[/]" if ok else "[red]MISMATCH[/]")
    console.print(table)
    await show_head_office(console, server_url, admin_token)
    kept = options.workdir is not None or options.keep
    all_ok &= await show_books(console, server_url, admin_token,
                               stores[0].folder.parent / "books.beancount" if kept else None)
    for store in stores:
        if store.printer is None:
            continue
        await _until_printed(store)
        printed = store.printer.printed
        receipts = [p for p in printed if p.barcodes]
        if receipts:
            kept = options.workdir is not None or options.keep
            where = (f"the last one read back from its ESC/POS bytes: "
                     f"{preview_png(receipts[-1], store.folder / 'last-receipt.png')}" if kept
                     else "run with --workdir DIR to keep a PNG of the last one")
            console.print(f"store {store.store_id}: {len(receipts)} receipts printed "
                          f"({sum(len(p.drawer_kicks) for p in printed)} drawer openings); "
                          f"{where}", soft_wrap=True)
        if store.lane is not None:
            console.print(f"store {store.store_id}: {store.lane.summary()}", soft_wrap=True)
    if options.keep:
        await _keep_running(console, stores, server_url, admin_token)
    if all_ok:
        console.print("[bold green]every store ledger reconciles with head office[/]")
        return 0
    for store in stores:
        if store.sync_failures and ledgers[store.store_id][1]:
            console.print(f"[bold red]store {store.store_id} did not reconcile:[/] "
                          f"{store.sync_failures[-1]}", soft_wrap=True)
    return 1


async def _keep_running(console: Console, stores: list[DemoStore], server_url: str,
                        admin_token: str) -> None:
    console.rule("left running (Ctrl-C to stop)")
    console.print(f"head office: {server_url}   admin token: {admin_token}", soft_wrap=True)
    console.print(f"  try: curl -H 'Authorization: Bearer {admin_token}' "
                  f"{server_url}/api/v1/sales", soft_wrap=True)
    for store in stores:
        console.print(f"store {store.store_id}: {store.url}   terminal T1 token: "
                      f"{store.terminal_tokens['T1']}   sync token: {store.sync_token}   "
                      f"config: {store.config_path}", soft_wrap=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _write_store_config(store: DemoStore, clock_start: datetime) -> None:
    terminals = "\n".join(f'{t} = "{token}"' for t, token in store.terminal_tokens.items())
    store.config_path.write_text(
        f'[store]\nid = "{store.store_id}"\ntimezone = "{store.timezone}"\n'
        f'clock_start = "{clock_start.isoformat()}"\n\n'
        f'[head_office]\nurl = "http://127.0.0.1:{store.proxy.listen_port}"\n'
        f'sync_token = "{store.sync_token}"\ntimeout_seconds = 10\n\n'
        f'[terminals]\n{terminals}\n\n[http]\nport = {store.port}\n\n'
        f'[sync]\nenabled = false\n\n'
        f'[ledger]\npath = "ledger.db"\n\n'
        + (f'[printer]\nurl = "{store.printer.url}"\nretry_seconds = 1\n'
           f'header = "Demo store {store.store_id}"\n\n' if store.printer else "")
        + (store.lane.config() if store.lane else "")
        + '[logging]\nlevel = "warning"\n', encoding="utf-8")


def _day_start(options: DemoOptions, day: int, timezone: str) -> datetime:
    """09:00 local on the demo's day ``day`` (the last day is today)."""
    when = date.today() - timedelta(days=options.days - 1 - day)
    return datetime(when.year, when.month, when.day, 9, 0, tzinfo=ZoneInfo(timezone))


def _store_ids(count: int) -> list[str]:
    return [f"S{n:03d}" for n in range(1, count + 1)]


async def _checked(console: Console, args: list[str]) -> None:
    status, output = await run_command(args)
    if status != 0:
        raise RuntimeError(f"backoffice {' '.join(args)} failed ({status}): {output}")


async def _json(resp: aiohttp.ClientResponse, expected: int) -> Any:
    body = await resp.json(content_type=None)
    if resp.status != expected:
        raise RuntimeError(f"{resp.method} {resp.url} answered {resp.status} (expected "
                           f"{expected}): {body}")
    return body
