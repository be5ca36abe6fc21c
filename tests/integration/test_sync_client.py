"""The agent's push client against a real head office (SQLite and PostgreSQL): batches, the
acknowledged seq in the ledger, an unreachable or refusing head office, and a lost answer."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from config import AgentSettings, ServerSettings
from server import create_app as create_server
from store_agent.app import create_app as create_agent
from store_agent.clock import SystemClock
from store_agent.errors import HeadOfficeUnreachable, SyncRefused
from store_agent.ledger import Ledger, SyncState, sync_state
from store_agent.sync_client import SyncResult, push_pending
from tests.integration.helpers import (
    HeadOffice,
    central_counts,
    high_water,
    ledger_events,
    ledger_query,
    open_drawer,
    ready_ledger,
    sale_request,
    set_up_head_office,
    terminal,
)


@dataclasses.dataclass
class Link:
    server: TestClient
    office: HeadOffice
    server_settings: ServerSettings
    agent: TestClient
    settings: AgentSettings
    sale_ids: list[str]

    async def sell(self, count: int) -> None:
        for _ in range(count):
            body = sale_request({"sku": "1001"}, {"barcode": "4012345000016", "quantity": 2})
            resp = await self.agent.post("/api/v1/sales", json=body, headers=terminal())
            assert resp.status == 201, await resp.text()
            self.sale_ids.append(body["sale_id"])


@pytest.fixture
async def link(server_settings: ServerSettings, aiohttp_client: Any, catalog_csv: Path,
               agent_settings_factory: Callable[..., AgentSettings]) -> Link:
    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    settings = ready_ledger(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"),
        sync_token=office.store_tokens["S001"]), catalog_csv)
    agent = await aiohttp_client(create_agent(settings))
    await open_drawer(agent)
    return Link(server, office, server_settings, agent, settings, [])


async def sync_once(settings: AgentSettings, **kwargs: Any) -> tuple[SyncResult, SyncState]:
    ledger = Ledger(settings.ledger.path, settings.store.id)
    await ledger.open()
    try:
        result = await push_pending(ledger, settings, SystemClock(), **kwargs)
        return result, await ledger.run(sync_state)
    finally:
        await ledger.close()


async def state_of(settings: AgentSettings) -> SyncState:
    ledger = Ledger(settings.ledger.path, settings.store.id)
    await ledger.open()
    try:
        return await ledger.run(sync_state)
    finally:
        await ledger.close()


async def held_sale_ids(link: Link) -> list[str]:
    resp = await link.server.get("/api/v1/sales?limit=1000", headers=link.office.admin)
    assert resp.status == 200
    return [s["sale_id"] for s in (await resp.json())["items"]]


async def test_everything_is_pushed_in_small_batches(link: Link) -> None:
    await link.sell(7)  # 8 events with the session opening
    settings = dataclasses.replace(link.settings, sync=dataclasses.replace(
        link.settings.sync, batch_max_events=3))
    seen: list[tuple[int, int]] = []
    result, state = await sync_once(settings, progress=lambda done, total: seen.append(
        (done, total)))
    assert (result.pushed, result.batches, result.high_water) == (8, 3, 8)
    assert seen == [(3, 8), (6, 8), (8, 8)]
    # Every batch told head office how far the store is and what its clock says.
    resp = await link.server.get("/api/v1/stores/S001", headers=link.office.admin)
    sync_status = (await resp.json())["sync"]
    assert (sync_status["store_head_seq"], sync_status["events_behind"]) == (8, 0)
    assert abs(sync_status["clock_skew_seconds"]) <= 2
    assert (state.acked_seq, state.pending, state.last_error) == (8, 0, None)
    assert state.last_success_at is not None
    assert [(state.acked_hash,)] == ledger_query(settings.ledger.path,
                                                 "SELECT hash FROM events WHERE seq = 8")
    assert await high_water(link.server, link.office) == 8
    assert await central_counts(link.server_settings.database.url) == (8, 7)
    assert sorted(await held_sale_ids(link)) == sorted(link.sale_ids)

    resp = await link.agent.get("/api/v1/status", headers=terminal())
    status = await resp.json()
    assert status["events"] == {"last_seq": 8, "acknowledged_seq": 8, "pending": 0}

    again, state = await sync_once(settings)
    assert (again.pushed, again.batches, again.high_water) == (0, 0, 8)
    await link.sell(1)
    more, state = await sync_once(settings)
    assert (more.pushed, more.batches, more.high_water, state.acked_seq) == (1, 1, 9, 9)
    assert await central_counts(link.server_settings.database.url) == (9, 8)


async def test_an_unreachable_head_office_acknowledges_nothing(
        agent_settings_factory: Callable[..., AgentSettings], catalog_csv: Path,
        aiohttp_client: Any) -> None:
    settings = ready_ledger(agent_settings_factory(head_office_url="http://127.0.0.1:9"),
                            catalog_csv)
    agent = await aiohttp_client(create_agent(settings))
    await open_drawer(agent)
    with pytest.raises(HeadOfficeUnreachable, match=r"unreachable at http://127\.0\.0\.1:9"):
        await sync_once(settings)
    state = await state_of(settings)
    assert state.acked_seq == 0 and state.pending == 1
    assert state.last_error is not None and "unreachable" in state.last_error
    assert state.last_attempt_at is not None and state.last_success_at is None
    assert ledger_events(settings.ledger.path) == 1
    resp = await agent.get("/api/v1/status", headers=terminal())
    body = await resp.json()
    assert body["events"]["pending"] == 1 and "unreachable" in body["sync"]["last_error"]


async def test_a_wrong_sync_token_is_refused_with_401(link: Link) -> None:
    await link.sell(2)
    settings = dataclasses.replace(link.settings, head_office=dataclasses.replace(
        link.settings.head_office, sync_token="bos_" + "w" * 43))
    with pytest.raises(SyncRefused, match="HTTP 401") as refused:
        await sync_once(settings)
    assert refused.value.status == 401
    state = await state_of(settings)
    assert state.acked_seq == 0 and state.pending == 3
    assert state.last_error is not None and "not recognised" in state.last_error
    assert await central_counts(link.server_settings.database.url) == (0, 0)
    # The right token then delivers everything, and clears the error.
    result, state = await sync_once(link.settings)
    assert (result.pushed, state.acked_seq, state.last_error) == (3, 3, None)


async def test_a_lost_answer_means_a_resend_that_head_office_skips(link: Link) -> None:
    await link.sell(4)
    small = dataclasses.replace(link.settings, sync=dataclasses.replace(
        link.settings.sync, batch_max_events=2))
    result, state = await sync_once(small)
    assert (result.high_water, state.acked_seq) == (5, 5)
    # The answer "never arrived": the agent still thinks nothing is acknowledged.
    conn = sqlite3.connect(small.ledger.path)
    try:
        conn.execute("UPDATE sync_state SET acked_seq = 0, acked_hash = ? WHERE id = 1",
                     ["0" * 64])
        conn.commit()
    finally:
        conn.close()
    assert (await state_of(small)).pending == 5
    await link.sell(2)

    result, state = await sync_once(small)
    assert (result.high_water, state.acked_seq, state.pending) == (7, 7, 0)
    assert await high_water(link.server, link.office) == 7
    assert await central_counts(link.server_settings.database.url) == (7, 6)
    held = await held_sale_ids(link)
    assert sorted(held) == sorted(link.sale_ids) and len(set(held)) == len(held) == 6

    # And once more from scratch, in one batch this time: still each sale once.
    conn = sqlite3.connect(small.ledger.path)
    try:
        conn.execute("UPDATE sync_state SET acked_seq = 0 WHERE id = 1")
        conn.commit()
    finally:
        conn.close()
    result, state = await sync_once(link.settings)
    assert (result.high_water, result.batches, state.acked_seq) == (7, 1, 7)
    assert await central_counts(link.server_settings.database.url) == (7, 6)
