"""Scale-out: two ``backoffice server run`` processes on different ports share one PostgreSQL
database and behave as one — a store syncs through either, the same batch sent to both at
once is applied exactly once, and a change made through one is pulled through the other."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from backoffice.demo.processes import Service, free_port, run_command, start_service, stop_service
from store_agent.app import create_app as create_agent
from store_agent.clock import SystemClock
from store_agent.ledger import Ledger
from store_agent.sync_client import push_pending
from sync import CONTENT_TYPE, PUSH_PATH, decode_push_ack
from tests.conftest import write_server_config
from tests.integration.agent_helpers import call, ledger_rows, open_till, prepared_settings, sale
from tests.integration.helpers import batch, central_counts, chained, sales_facts

pytestmark = pytest.mark.postgres
TOKEN = re.compile(r"\b(bo[as]_[A-Za-z0-9_-]{20,})")


@pytest.fixture
async def two_servers(tmp_path: Path, postgres_url: str) -> AsyncIterator[dict[str, Any]]:
    ports = free_port(), free_port()
    configs = []
    for n, port in enumerate(ports):
        folder = tmp_path / f"server-{n}"
        folder.mkdir()
        configs.append(write_server_config(folder, postgres_url, port))
    status, output = await run_command(["server", "init", "--config", str(configs[0])])
    assert status == 0, output
    tokens = {"admin": TOKEN.findall(output)[0]}
    for store_id in ("S001", "S002"):
        status, output = await run_command(["server", "enroll-store", store_id, "--name",
                                            store_id, "--timezone", "UTC", "--config",
                                            str(configs[1])])
        assert status == 0, output
        tokens[store_id] = TOKEN.findall(output)[0]
    services: list[Service] = []
    try:
        for n, (port, config) in enumerate(zip(ports, configs, strict=True)):
            services.append(await start_service(
                f"server-{n}", ["server", "run", "--config", str(config)],
                f"http://127.0.0.1:{port}", config.parent / "server.log"))
        yield {"urls": [s.url for s in services], "tokens": tokens, "db": postgres_url}
    finally:
        for service in services:
            await stop_service(service)


async def _sync_through(settings: Any, url: str) -> None:
    settings = dataclasses.replace(settings, head_office=dataclasses.replace(
        settings.head_office, url=url))
    ledger = Ledger(settings.ledger.path, settings.store.id)
    await ledger.open()
    try:
        await push_pending(ledger, settings, SystemClock())
    finally:
        await ledger.close()


async def test_two_processes_behave_as_one(two_servers: dict[str, Any],
                                           agent_settings_factory: Any,
                                           aiohttp_client: Any) -> None:
    first, second = two_servers["urls"]
    tokens = two_servers["tokens"]
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    settings = prepared_settings(agent_settings_factory(store_id="S001", head_office_url=first,
                                                        sync_token=tokens["S001"]))
    agent = await aiohttp_client(create_agent(settings))
    await open_till(agent)
    async with aiohttp.ClientSession() as session:
        # A price set through the first process...
        async with session.put(f"{first}/api/v1/products/1001", headers=admin, json={
                "name": "Whole milk 1 l", "price": "1.49", "tax_rate": "7"}) as resp:
            assert resp.status == 200
        # ...a store syncing alternately through both.
        for url in (first, second, first, second):
            for _ in range(3):
                status, body = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1002"}))
                assert status == 201, body
            await _sync_through(settings, url)
        last_seq = ledger_rows(settings.ledger.path, "SELECT max(seq) FROM events")[0][0]
        for url in (first, second):
            async with session.get(f"{url}/api/v1/stores/S001", headers=admin) as resp:
                assert (await resp.json())["sync"]["high_water_seq"] == last_seq
        assert await central_counts(two_servers["db"], "S001") == (last_seq, 12)
        # ...and pulled, through the second, what was set through the first.
        assert ledger_rows(settings.ledger.path,
                           "SELECT price_minor FROM products WHERE sku = '1001'") == [(149,)]

        # The same batch sent to both processes at once is applied exactly once.
        events = chained("S002", sales_facts(200))
        body = batch("S002", events)
        headers = {"Authorization": f"Bearer {tokens['S002']}", "Content-Type": CONTENT_TYPE}

        async def push(url: str) -> tuple[int, bytes]:
            async with session.post(f"{url}{PUSH_PATH}", data=io.BytesIO(body),
                                    headers=headers) as resp:
                return resp.status, await resp.read()

        answers = await asyncio.gather(push(first), push(second), push(first))
        assert [status for status, _ in answers] == [200, 200, 200]
        acks = [decode_push_ack(data) for _, data in answers]
        assert sorted(ack.applied for ack in acks) == [0, 0, 200]
        assert {ack.high_water for ack in acks} == {200}
    assert await central_counts(two_servers["db"], "S002") == (200, 200)
