"""``kill -9`` of the agent during a stream of sales from several terminals: after a restart
every sale that got a 2xx is in the ledger, none is partial, the chain verifies, and receipt
numbers are gap-free per terminal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import uuid
from pathlib import Path

import aiohttp

from backoffice.demo.processes import free_port, run_command, start_service, stop_service
from tests.conftest import TERMINAL_TOKENS, write_store_config


async def _terminal(url: str, terminal: str, confirmed: list[dict[str, object]],
                    stop: asyncio.Event, enough: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {TERMINAL_TOKENS[terminal]}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while not stop.is_set():
            sale = {"sale_id": str(uuid.uuid4()), "cashier": "E100",
                    "lines": [{"sku": "1001", "quantity": "1"}, {"sku": "2001", "quantity": 2},
                              {"barcode": "4012345000016", "quantity": "1"}],
                    "tenders": [{"type": "cash", "amount": "20.00"}]}
            try:
                async with session.post(f"{url}/api/v1/sales", json=sale,
                                        headers=headers) as resp:
                    if resp.status in (200, 201):
                        confirmed.append(await resp.json())
                        if len(confirmed) >= 60:
                            enough.set()
            except (aiohttp.ClientError, OSError, TimeoutError):
                return


async def test_kill9_mid_stream_loses_no_confirmed_sale(tmp_path: Path,
                                                        catalog_csv: Path) -> None:
    port = free_port()
    config = write_store_config(tmp_path / "store", port=port)
    for args in (["agent", "init"], ["agent", "import-catalog", str(catalog_csv)]):
        status, output = await run_command([*args, "--config", str(config)])
        assert status == 0, output
    url = f"http://127.0.0.1:{port}"
    agent = await start_service("agent", ["agent", "run", "--config", str(config)], url,
                                tmp_path / "agent.log")
    try:
        async with aiohttp.ClientSession() as session:
            for terminal in TERMINAL_TOKENS:
                async with session.post(
                        f"{url}/api/v1/cash-sessions",
                        json={"session_id": f"session-{terminal}", "employee": "E100",
                              "float": "100.00"},
                        headers={"Authorization": f"Bearer {TERMINAL_TOKENS[terminal]}"}) as r:
                    assert r.status == 201, await r.text()
        confirmed: list[dict[str, object]] = []
        stop, enough = asyncio.Event(), asyncio.Event()
        # Several clients per terminal, so that writes are queued when the kill lands.
        clients = [asyncio.create_task(_terminal(url, terminal, confirmed, stop, enough))
                   for terminal in TERMINAL_TOKENS for _ in range(3)]
        await asyncio.wait_for(enough.wait(), 60)
        agent.process.send_signal(signal.SIGKILL)
        await agent.process.wait()
        stop.set()
        await asyncio.gather(*clients)
    finally:
        with contextlib.suppress(ProcessLookupError):
            agent.process.kill()
        await stop_service(agent)

    status, output = await run_command(["agent", "verify", "--config", str(config)])
    assert status == 0, output
    ledger = sqlite3.connect(tmp_path / "store" / "ledger.db")
    held = {row[0]: row[1:] for row in ledger.execute(
        "SELECT sale_id, terminal_id, receipt_no, total_minor FROM sales")}
    for answer in confirmed:
        assert answer["sale_id"] in held, f"confirmed sale {answer['sale_id']} was lost"
        assert held[str(answer["sale_id"])][:2] == (answer["terminal_id"], answer["receipt_no"])
    events = ledger.execute("SELECT COUNT(*) FROM events WHERE kind = 'sale.completed'").fetchone()
    assert events[0] == len(held)  # no event without its projection, nor the reverse
    t1_last = ledger.execute("SELECT last_no FROM receipt_counters WHERE terminal_id = 'T1'"
                             ).fetchone()[0]
    for terminal in TERMINAL_TOKENS:
        numbers = [r[0] for r in ledger.execute(
            "SELECT receipt_no FROM sales WHERE terminal_id = ? ORDER BY receipt_no", [terminal])]
        assert numbers == list(range(1, len(numbers) + 1)), f"gap in {terminal}'s receipts"
    ledger.close()

    # The agent restarts on the same ledger and numbering goes on without a gap.
    agent = await start_service("agent", ["agent", "run", "--config", str(config)], url,
                                tmp_path / "agent.log")
    try:
        async with aiohttp.ClientSession() as session, session.post(
                f"{url}/api/v1/sales", headers={"Authorization": f"Bearer {TERMINAL_TOKENS['T1']}"},
                json={"sale_id": str(uuid.uuid4()), "cashier": "E100",
                      "lines": [{"sku": "1001"}],
                      "tenders": [{"type": "cash", "amount": "5.00"}]}) as resp:
            body = await resp.json()
            assert resp.status == 201, body
            assert body["receipt_no"] == t1_last + 1
    finally:
        await stop_service(agent)
