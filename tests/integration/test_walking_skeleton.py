"""A sale rung up at the agent reaches head office through push, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server import create_app as create_server
from server.admin import enroll_store, init_database
from server.storage import Storage
from store_agent.app import create_app as create_agent
from store_agent.catalog import import_catalog_csv
from store_agent.clock import SystemClock
from store_agent.ledger import Ledger, create_ledger, open_ledger
from store_agent.sync_client import push_pending
from tests.conftest import TERMINAL_TOKENS

SALE: dict[str, Any] = {
    "sale_id": "0b7e1c8a-6c1e-4c55-9d6f-2f6a2b9e0001", "cashier": "E100",
    "lines": [{"sku": "1001", "quantity": "2"}, {"barcode": "4012345000023", "quantity": 1}],
    "tenders": [{"type": "cash", "amount": "10.00"}],
}


async def test_sale_reaches_head_office(server_settings, agent_settings_factory, catalog_csv,
                                        aiohttp_client) -> None:
    storage = Storage(server_settings.database.url)
    init = await init_database(storage)
    token = await enroll_store(storage, "S001", "Main St", "Europe/Berlin")
    await storage.dispose()
    server: TestClient = await aiohttp_client(create_server(server_settings))
    head_office_url = str(server.make_url("")).rstrip("/")
    settings = agent_settings_factory(head_office_url=head_office_url, sync_token=token)
    create_ledger(settings.ledger.path, "S001", "2026-11-24T00:00:00Z")
    db = open_ledger(settings.ledger.path, "S001")
    import_catalog_csv(db, catalog_csv, 2)
    db.close()

    agent: TestClient = await aiohttp_client(create_agent(settings))
    auth = {"Authorization": f"Bearer {TERMINAL_TOKENS['T1']}"}
    resp = await agent.post("/api/v1/cash-sessions", headers=auth, json={
        "session_id": "session-0001", "employee": "E100", "float": "50.00"})
    assert resp.status == 201, await resp.text()
    resp = await agent.post("/api/v1/sales", json=SALE, headers=auth)
    sale = await resp.json()
    assert resp.status == 201, sale
    # 2 x 1.29 + 2.49 = 5.07 at 7 % -> tax 0.35 (0.3549 rounded half-up)
    assert (sale["subtotal"], sale["tax"], sale["total"], sale["change_due"]) == \
        ("5.07", "0.35", "5.42", "4.58")

    ledger = Ledger(settings.ledger.path, "S001")
    await ledger.open()
    try:
        result = await push_pending(ledger, settings, SystemClock())
        assert (result.pushed, result.high_water) == (2, 2)
        again = await push_pending(ledger, settings, SystemClock())
        assert again.pushed == 0
    finally:
        await ledger.close()

    admin = {"Authorization": f"Bearer {init.admin_token}"}
    resp = await server.get(f"/api/v1/sales/{SALE['sale_id']}", headers=admin)
    held = await resp.json()
    assert resp.status == 200, held
    assert held["total"] == "5.42" and held["store_id"] == "S001"
    assert [(ln["sku"], ln["quantity"]) for ln in held["lines"]] == [("1001", "2"), ("1002", "1")]
    resp = await server.get("/api/v1/stores/S001", headers=admin)
    assert (await resp.json())["sync"]["high_water_seq"] == 2
