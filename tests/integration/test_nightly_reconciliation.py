"""The nightly reconciliation: digests agree after a clean sync; a difference at head office is
found, logged and shown on both sides; the job is scheduled at the store's local time."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server import create_app as create_server
from server.admin import enroll_store, init_database
from server.storage import Storage
from server.storage.tables import store_events
from store_agent import keys
from store_agent.app import create_app as create_agent
from store_agent.clock import SystemClock
from store_agent.ledger import Ledger
from store_agent.reconcile import reconcile
from tests.integration.agent_helpers import call, open_till, prepared_settings, sale


async def test_digests_match_then_a_tampered_head_office_is_caught(
        server_settings: Any, agent_settings_factory: Any, aiohttp_client: Any) -> None:
    storage = Storage(server_settings.database.url)
    init = await init_database(storage)
    token = await enroll_store(storage, "S001", "Main", "Europe/Berlin")
    server = await aiohttp_client(create_server(server_settings))
    admin = {"Authorization": f"Bearer {init.admin_token}"}
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"), sync_token=token))
    agent = await aiohttp_client(create_agent(settings))
    await open_till(agent)
    for sku in ("1001", "2001", "3001"):
        await call(agent, "POST", "/api/v1/sales", sale({"sku": sku}))
    ledger = Ledger(settings.ledger.path, "S001")
    await ledger.open()
    try:
        first = await reconcile(ledger, settings, SystemClock())
        assert (first.matches, first.through_seq, first.differences) == (True, 4, ())
        # Someone edits a sale's total in head office's copy of the events.
        async with storage.write() as conn:
            row = (await conn.execute(sa.select(store_events.c.payload).where(
                store_events.c.seq == 3))).one()
            await conn.execute(store_events.update().where(store_events.c.seq == 3).values(
                payload={**row.payload, "total": row.payload["total"] + 100}))
        second = await reconcile(ledger, settings, SystemClock())
    finally:
        await ledger.close()
        await storage.dispose()
    assert not second.matches
    assert any(d.startswith("sale.completed [count, money]") for d in second.differences)
    _, status = await call(agent, "GET", "/api/v1/status")
    assert status["reconciliation"]["matches"] is False
    assert status["reconciliation"]["differences"] == list(second.differences)
    resp = await server.get("/api/v1/stores/S001", headers=admin)
    shown = (await resp.json())["nightly_reconciliation"]
    assert (shown["matches"], shown["through_seq"]) == (False, 4)
    assert shown["differences"] == list(second.differences)


async def test_nightly_job_runs_at_store_local_time(agent_settings_factory: Any,
                                                    aiohttp_client: Any) -> None:
    settings = prepared_settings(agent_settings_factory())
    settings = dataclasses.replace(settings, sync=dataclasses.replace(
        settings.sync, enabled=True, nightly_at="02:30", interval_seconds=3600))
    agent = await aiohttp_client(create_agent(settings))
    when = datetime.fromisoformat(agent.app[keys.SYNC].status()["next_reconciliation_at"])
    local = when.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (2, 30)
