"""The agent's background sync on APScheduler: a sale reaches head office soon after it is
rung up, an unreachable head office backs the loop off, and two syncs never overlap."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from typing import Any

from aiohttp.test_utils import TestClient

from server import create_app as create_server
from server.admin import enroll_store, init_database
from server.storage import Storage
from store_agent import keys
from store_agent.app import create_app as create_agent
from store_agent.sync_lock import SyncBusy, sync_lock
from store_agent.sync_loop import backoff_seconds
from tests.integration.agent_helpers import call, open_till, prepared_settings, sale


def _with_sync(settings: Any, **changes: Any) -> Any:
    return dataclasses.replace(settings, sync=dataclasses.replace(settings.sync, enabled=True,
                                                                  **changes))


async def _head_office(server_settings: Any, aiohttp_client: Any) -> tuple[TestClient, str, str]:
    storage = Storage(server_settings.database.url)
    init = await init_database(storage)
    token = await enroll_store(storage, "S001", "Main", "Europe/Berlin")
    await storage.dispose()
    server = await aiohttp_client(create_server(server_settings))
    return server, token, str(init.admin_token)


async def _wait_for(predicate: Any, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_a_sale_reaches_head_office_without_anyone_asking(
        server_settings: Any, agent_settings_factory: Any, aiohttp_client: Any) -> None:
    server, token, admin = await _head_office(server_settings, aiohttp_client)
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"), sync_token=token))
    agent = await aiohttp_client(create_agent(_with_sync(settings, interval_seconds=3600,
                                                         debounce_seconds=0)))
    await open_till(agent)
    status, sold = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"}))
    assert status == 201

    async def arrived() -> bool:
        resp = await server.get(f"/api/v1/sales/{sold['sale_id']}",
                                headers={"Authorization": f"Bearer {admin}"})
        return resp.status == 200

    await _wait_for(arrived)
    status, body = await call(agent, "GET", "/api/v1/status")
    assert body["events"]["pending"] == 0 and body["sync_loop"]["background"] is True


async def test_unreachable_head_office_backs_off_and_says_so(agent_settings_factory: Any,
                                                             aiohttp_client: Any) -> None:
    settings = prepared_settings(agent_settings_factory(head_office_url="http://127.0.0.1:9"))
    agent = await aiohttp_client(create_agent(_with_sync(settings, interval_seconds=60)))
    loop = agent.app[keys.SYNC]
    await open_till(agent)  # something to push
    for _ in range(3):
        assert await loop.run_once() is None
    status = loop.status()
    assert status["consecutive_failures"] == 3
    _, body = await call(agent, "GET", "/api/v1/status")
    assert "unreachable" in body["sync"]["last_error"]
    assert body["sync_loop"]["next_attempt_at"] is not None


def test_backoff_doubles_with_jitter_up_to_the_ceiling() -> None:
    rng = random.Random(7)
    waits = [backoff_seconds(n, 60, 300, rng) for n in range(1, 9)]
    assert 3.75 <= waits[0] <= 11.25  # 7.5 s +- 50 %
    assert all(w <= 450 for w in waits) and waits[-1] >= 150  # capped at 300 +- 50 %
    assert backoff_seconds(3, 60, 300, random.Random(1)) != backoff_seconds(3, 60, 300,
                                                                              random.Random(2))


async def test_never_two_syncs_at_once(agent_settings_factory: Any, aiohttp_client: Any) -> None:
    settings = prepared_settings(agent_settings_factory())
    agent = await aiohttp_client(create_agent(_with_sync(settings, interval_seconds=3600)))
    loop = agent.app[keys.SYNC]
    with sync_lock(settings.ledger.path):  # as if 'backoffice agent sync' were running
        assert await loop.run_once() is None
        assert loop.status()["consecutive_failures"] == 0  # skipped, not failed
        try:
            with sync_lock(settings.ledger.path, wait_seconds=0.2):
                raise AssertionError("the lock was taken twice")
        except SyncBusy as exc:
            assert "another sync" in str(exc)


async def test_a_busy_head_office_is_retried_when_it_says(agent_settings_factory: Any,
                                                          aiohttp_client: Any,
                                                          aiohttp_server: Any) -> None:
    """503 with Retry-After: the loop comes back after that (plus jitter), without counting a
    failure or escalating its backoff."""
    from datetime import UTC, datetime

    from aiohttp import web

    async def busy(_request: web.Request) -> web.Response:
        return web.json_response({"title": "Service Unavailable", "status": 503,
                                  "detail": "head office is busy"}, status=503,
                                 headers={"Retry-After": "7"})

    office = web.Application()
    office.router.add_post("/sync/v1/push", busy)
    server = await aiohttp_server(office)
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/")))
    agent = await aiohttp_client(create_agent(_with_sync(settings, interval_seconds=600)))
    loop = agent.app[keys.SYNC]
    await open_till(agent)
    for _ in range(3):
        before = datetime.now(UTC)
        assert await loop.run_once() is None
        status = loop.status()
        assert status["consecutive_failures"] == 0
        wait = (datetime.fromisoformat(status["next_attempt_at"]) - before).total_seconds()
        assert 6.5 <= wait <= 11, wait  # 7 s, plus at most half of it as jitter
