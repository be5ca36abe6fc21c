"""The walking skeleton with real processes: ``server run`` and ``agent run`` on loopback, a sale
posted to the agent, ``agent sync`` as a command, the sale read back from the head-office API.
Also: the agent keeps selling while head office is down, and sync says so clearly."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from backoffice.demo.processes import (
    Service,
    free_port,
    run_command,
    start_service,
    stop_service,
)
from tests.conftest import TERMINAL_TOKENS, write_server_config, write_store_config

TOKEN = re.compile(r"\b(bo[as]_[A-Za-z0-9_-]{20,})")


@dataclass
class Chain:
    folder: Path
    server_config: Path
    store_config: Path
    server_url: str
    agent_url: str
    admin_token: str
    services: list[Service]

    async def start_server(self) -> Service:
        service = await start_service("server", ["server", "run", "--config",
                                                 str(self.server_config)],
                                      self.server_url, self.folder / "server.log")
        self.services.append(service)
        return service


@pytest.fixture
async def chain(tmp_path: Path, catalog_csv: Path) -> AsyncIterator[Chain]:
    server_port, agent_port = free_port(), free_port()
    server_config = write_server_config(tmp_path, "sqlite:///central.db", port=server_port)
    status, output = await run_command(["server", "init", "--config", str(server_config)])
    assert status == 0, output
    admin_token = TOKEN.findall(output)[0]
    status, output = await run_command(["server", "enroll-store", "S001", "--name", "Main St",
                                        "--timezone", "Europe/Berlin", "--config",
                                        str(server_config)])
    assert status == 0, output
    sync_token = TOKEN.findall(output)[0]
    store_config = write_store_config(tmp_path / "store", "S001",
                                      f"http://127.0.0.1:{server_port}", sync_token,
                                      port=agent_port)
    for args in (["agent", "init"], ["agent", "import-catalog", str(catalog_csv)]):
        status, output = await run_command([*args, "--config", str(store_config)])
        assert status == 0, output
    services: list[Service] = []
    chain = Chain(tmp_path, server_config, store_config, f"http://127.0.0.1:{server_port}",
                  f"http://127.0.0.1:{agent_port}", admin_token, services)
    services.append(await start_service("agent", ["agent", "run", "--config", str(store_config)],
                                        chain.agent_url, tmp_path / "agent.log"))
    async with aiohttp.ClientSession() as session, session.post(
            f"{chain.agent_url}/api/v1/cash-sessions",
            json={"session_id": "session-0001", "employee": "E100", "float": "100.00"},
            headers={"Authorization": f"Bearer {TERMINAL_TOKENS['T1']}"}) as resp:
        assert resp.status == 201, await resp.text()
    try:
        yield chain
    finally:
        for service in services:
            await stop_service(service)


async def _sell(agent_url: str, sku: str = "1002") -> dict[str, object]:
    sale = {"sale_id": str(uuid.uuid4()), "cashier": "E100",
            "lines": [{"sku": sku, "quantity": "2"}],
            "tenders": [{"type": "cash", "amount": "20.00"}]}
    async with aiohttp.ClientSession() as session, session.post(
            f"{agent_url}/api/v1/sales", json=sale,
            headers={"Authorization": f"Bearer {TERMINAL_TOKENS['T1']}"}) as resp:
        body = await resp.json()
        assert resp.status == 201, body
        return dict(body)


async def _head_office_sale(chain: Chain, sale_id: object) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(
            f"{chain.server_url}/api/v1/sales/{sale_id}",
            headers={"Authorization": f"Bearer {chain.admin_token}"}) as resp:
        return resp.status, await resp.json()


async def test_sale_travels_from_terminal_to_head_office(chain: Chain) -> None:
    await chain.start_server()
    sale = await _sell(chain.agent_url)
    status, _ = await _head_office_sale(chain, sale["sale_id"])
    assert status == 404  # not synced yet

    status, output = await run_command(["agent", "sync", "--config", str(chain.store_config)])
    assert status == 0, output
    assert "pushed 2 events" in output  # the session opening and the sale

    status, held = await _head_office_sale(chain, sale["sale_id"])
    assert status == 200, held
    assert (held["store_id"], held["total"], held["receipt_no"]) == \
        ("S001", sale["total"], sale["receipt_no"])

    status, output = await run_command(["agent", "status", "--config", str(chain.store_config)])
    assert status == 0, output
    assert re.search(r"waiting to sync\s*│\s*0", output), output


async def test_agent_sells_while_head_office_is_down_and_catches_up(chain: Chain) -> None:
    first = await _sell(chain.agent_url)  # head office has never been started
    status, output = await run_command(["agent", "sync", "--config", str(chain.store_config)])
    assert status == 3, output
    assert "unreachable" in output
    second = await _sell(chain.agent_url, sku="2001")
    assert second["receipt_no"] == int(str(first["receipt_no"])) + 1

    server = await chain.start_server()
    status, output = await run_command(["agent", "sync", "--config", str(chain.store_config)])
    assert status == 0, output
    for sale in (first, second):
        status, held = await _head_office_sale(chain, sale["sale_id"])
        assert status == 200 and held["total"] == sale["total"]

    # Head office killed and restarted: nothing is pushed twice.
    await stop_service(server)
    await chain.start_server()
    status, output = await run_command(["agent", "sync", "--config", str(chain.store_config)])
    assert status == 0 and "pushed 0 events" in output, output
    async with aiohttp.ClientSession() as session, session.get(
            f"{chain.server_url}/api/v1/sales",
            headers={"Authorization": f"Bearer {chain.admin_token}"}) as resp:
        assert len((await resp.json())["items"]) == 2


async def test_sync_with_a_wrong_token_exits_4_naming_the_store(chain: Chain) -> None:
    await chain.start_server()
    await _sell(chain.agent_url)
    text = chain.store_config.read_text()
    chain.store_config.write_text(re.sub(r'sync_token = "[^"]+"',
                                         'sync_token = "bos_not-the-token-we-were-given"', text))
    status, output = await run_command(["agent", "sync", "--config", str(chain.store_config)])
    assert status == 4, output
    assert "S001" in output and "refused" in output and "sync_token" in output
