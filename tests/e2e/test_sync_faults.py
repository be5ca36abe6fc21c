"""Exactly-once delivery under faults, with a real server process on loopback: a fault proxy
cutting connections at random points, the server killed with SIGKILL mid-batch, and the agent's
sync command killed mid-run. Once the faults stop, head office holds exactly the store's
events, each once."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import signal
import sqlite3
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from backoffice.demo.processes import free_port, run_command, start_service, stop_service
from config import load_agent_settings
from store_agent.app import store_context
from store_agent.cash import open_session
from store_agent.clock import SystemClock
from store_agent.errors import SyncError
from store_agent.ledger import Ledger, open_ledger, sync_state
from store_agent.sales import record_sale
from store_agent.sync_client import push_pending
from tests.conftest import write_server_config, write_store_config
from tests.faults import FaultProxy
from tests.integration.agent_helpers import prepared_settings

TOKEN = re.compile(r"\b(bo[as]_[A-Za-z0-9_-]{20,})")


@dataclasses.dataclass
class HeadOffice:
    url: str
    port: int
    config: Path
    admin: str
    store_token: str
    folder: Path

    async def start(self) -> Any:
        return await start_service("server", ["server", "run", "--config", str(self.config)],
                                   self.url, self.folder / "server.log")


async def _head_office(folder: Path) -> HeadOffice:
    port = free_port()
    config = write_server_config(folder, "sqlite:///central.db", port=port)
    _, output = await run_command(["server", "init", "--config", str(config)])
    admin = TOKEN.findall(output)[0]
    _, output = await run_command(["server", "enroll-store", "S001", "--name", "Main",
                                   "--timezone", "Europe/Berlin", "--config", str(config)])
    return HeadOffice(f"http://127.0.0.1:{port}", port, config, admin, TOKEN.findall(output)[0],
                      folder)


def _ring_up(settings: Any, count: int) -> None:
    db = open_ledger(settings.ledger.path, settings.store.id)
    store, now = store_context(settings), datetime.now(UTC)
    try:
        if not db.execute("SELECT 1 FROM cash_sessions WHERE status = 'open'").fetchone():
            open_session(db, store, "T1", {"session_id": f"s-{uuid.uuid4()}", "employee": "E100",
                                           "float": "10.00"}, now)
        for _ in range(count):
            record_sale(db, store, "T1", {
                "sale_id": str(uuid.uuid4()), "cashier": "E100",
                "lines": [{"sku": "1001", "quantity": 2}, {"sku": "2001"}],
                "tenders": [{"type": "cash", "amount": "20.00"}]}, now)
    finally:
        db.close()


async def _assert_head_office_holds_exactly(head_office: HeadOffice, settings: Any) -> None:
    ledger = sqlite3.connect(settings.ledger.path)
    last_seq = ledger.execute("SELECT MAX(seq) FROM events").fetchone()[0]
    sale_ids = {r[0] for r in ledger.execute("SELECT sale_id FROM sales")}
    ledger.close()
    headers = {"Authorization": f"Bearer {head_office.admin}"}
    async with aiohttp.ClientSession(base_url=head_office.url, headers=headers) as session:
        async with session.get("/api/v1/stores/S001") as resp:
            assert (await resp.json())["sync"]["high_water_seq"] == last_seq
        held: list[str] = []
        cursor = ""
        while True:
            async with session.get(f"/api/v1/sales?limit=1000{cursor}") as resp:
                page = await resp.json()
            held += [item["sale_id"] for item in page["items"]]
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
    assert len(held) == len(set(held)), "a sale reached head office twice"
    assert set(held) == sale_ids


async def _acknowledged_some(ledger_path: Path) -> None:
    """Wait until head office has acknowledged part of the backlog: mid-sync."""
    for _ in range(600):
        conn = sqlite3.connect(ledger_path)
        acked = conn.execute("SELECT acked_seq FROM sync_state").fetchone()[0]
        conn.close()
        if acked > 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("nothing was acknowledged in 12 s")


async def _push(settings: Any) -> int:
    ledger = Ledger(settings.ledger.path, settings.store.id)
    await ledger.open()
    try:
        await push_pending(ledger, settings, SystemClock())
        return (await ledger.run(sync_state)).pending
    finally:
        await ledger.close()


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_connection_faults_deliver_each_event_once(tmp_path: Path,
                                                                seed: int) -> None:
    head_office = await _head_office(tmp_path)
    server = await head_office.start()
    proxy = FaultProxy(head_office.port, seed=seed, fault_rate=0.6)
    await proxy.start()
    try:
        settings = prepared_settings(load_agent_settings(write_store_config(
            tmp_path / "store", head_office_url=f"http://127.0.0.1:{proxy.port}",
            sync_token=head_office.store_token), env={}))
        settings = dataclasses.replace(settings, sync=dataclasses.replace(
            settings.sync, batch_max_events=7, compress_min_bytes=512))
        failures = 0
        for _round in range(40):
            _ring_up(settings, 5)  # sales keep coming while the link misbehaves
            try:
                await _push(settings)
            except SyncError:
                failures += 1
        proxy.calm()
        assert await _push(settings) == 0
        assert failures > 0 and sum(proxy.seen[f] for f in proxy.seen if f != "pass") > 5
        await _assert_head_office_holds_exactly(head_office, settings)
    finally:
        await proxy.stop()
        await stop_service(server)


async def test_server_killed_mid_batch_then_restarted(tmp_path: Path) -> None:
    head_office = await _head_office(tmp_path)
    server = await head_office.start()
    settings = prepared_settings(load_agent_settings(write_store_config(
        tmp_path / "store", head_office_url=head_office.url,
        sync_token=head_office.store_token), env={}))
    settings = dataclasses.replace(settings, sync=dataclasses.replace(
        settings.sync, batch_max_events=400))
    _ring_up(settings, 1500)
    push = asyncio.ensure_future(_push(settings))
    await _acknowledged_some(settings.ledger.path)
    server.process.send_signal(signal.SIGKILL)
    await server.process.wait()
    with pytest.raises(SyncError):
        await push
    mid = sqlite3.connect(settings.ledger.path).execute(
        "SELECT acked_seq FROM sync_state").fetchone()[0]
    assert 0 < mid < 1501  # the kill landed mid-backlog
    server = await head_office.start()
    try:
        assert await _push(settings) == 0
        await _assert_head_office_holds_exactly(head_office, settings)
    finally:
        await stop_service(server)


async def test_agent_sync_killed_mid_run_then_rerun(tmp_path: Path) -> None:
    head_office = await _head_office(tmp_path)
    server = await head_office.start()
    try:
        config = write_store_config(tmp_path / "store", head_office_url=head_office.url,
                                    sync_token=head_office.store_token)
        settings = prepared_settings(load_agent_settings(config, env={}))
        _ring_up(settings, 1500)
        text = config.read_text().replace("[sync]\n", "[sync]\nbatch_max_events = 100\n")
        config.write_text(text)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backoffice", "agent", "sync", "--config", str(config),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await _acknowledged_some(settings.ledger.path)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        status, output = await run_command(["agent", "sync", "--config", str(config)])
        assert status == 0, output
        await _assert_head_office_holds_exactly(head_office, settings)
        status, output = await run_command(["agent", "verify", "--config", str(config)])
        assert status == 0, output
    finally:
        await stop_service(server)
