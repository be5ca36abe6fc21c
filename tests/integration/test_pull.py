"""Pull: head office's catalog, price and employee changes reach a store when it syncs —
including changes made while it was offline, scoped to the store, taking effect at their
effective time — and each page lands together with its cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgpack
from aiohttp.test_utils import TestClient

from server import create_app as create_server
from server.admin import enroll_store, init_database
from server.storage import Storage
from store_agent.app import create_app as create_agent
from sync import CONTENT_TYPE, PULL_PATH, decode_changes
from tests.integration.agent_helpers import (
    call,
    ledger_rows,
    open_till,
    prepared_settings,
    push_store,
    sale,
)


class FixedClock:
    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


async def _setup(server_settings: Any, aiohttp_client: Any) -> tuple[TestClient, dict[str, str],
                                                                      dict[str, str]]:
    storage = Storage(server_settings.database.url)
    init = await init_database(storage)
    tokens = {s: await enroll_store(storage, s, s, "Europe/Berlin") for s in ("S001", "S002")}
    await storage.dispose()
    server = await aiohttp_client(create_server(server_settings))
    return server, tokens, {"Authorization": f"Bearer {init.admin_token}"}


async def test_catalog_prices_and_employees_flow_down(server_settings: Any, aiohttp_client: Any,
                                                      agent_settings_factory: Any) -> None:
    server, tokens, admin = await _setup(server_settings, aiohttp_client)
    url = str(server.make_url("")).rstrip("/")
    settings = prepared_settings(agent_settings_factory(head_office_url=url,
                                                        sync_token=tokens["S001"]))
    # Head office changes things while the store is offline.
    resp = await server.put("/api/v1/products/7001", headers=admin, json={
        "name": "Olive oil 0.5 l", "price": "6.49", "tax_rate": "7",
        "barcodes": ["4012345000122"]})
    assert resp.status == 200, await resp.text()
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    resp = await server.post("/api/v1/products/7001/prices", headers=admin, json={
        "price": "5.99", "effective_at": tomorrow.isoformat()})
    assert resp.status == 201, await resp.text()
    resp = await server.post("/api/v1/products/7001/prices", headers=admin, json={
        "price": "1.00", "effective_at": datetime.now(UTC).isoformat(), "store_id": "S002"})
    assert resp.status == 201
    resp = await server.put("/api/v1/employees/E500", headers=admin, json={
        "name": "New hire", "role": "cashier", "pin": "5555"})
    assert resp.status == 200

    result = await push_store(settings)
    assert result.pulled == 3  # product, chain-wide price, employee; not S002's override
    assert ledger_rows(settings.ledger.path, "SELECT pull_cursor FROM sync_state") == [(4,)]
    again = await push_store(settings)
    assert again.pulled == 0

    clock = FixedClock(datetime.now(UTC))
    agent = await aiohttp_client(create_agent(settings, clock=clock))
    status, product = await call(agent, "GET", "/api/v1/products/4012345000122")
    assert (status, product["name"], product["price"]) == (200, "Olive oil 0.5 l", "6.49")
    clock.instant = tomorrow + timedelta(seconds=1)
    status, product = await call(agent, "GET", "/api/v1/products/7001")
    assert product["price"] == "5.99"  # the scheduled price took effect on its own
    await open_till(agent)
    status, sold = await call(agent, "POST", "/api/v1/sales", sale(
        {"sku": "7001"}, cashier={"employee_id": "E500", "pin": "5555"}))
    assert status == 201 and sold["cashier"] == "E500", sold


async def test_pull_is_scoped_checked_and_paged(server_settings: Any,
                                                aiohttp_client: Any) -> None:
    server, tokens, admin = await _setup(server_settings, aiohttp_client)
    for n in range(5):
        await server.put(f"/api/v1/products/P{n}", headers=admin, json={
            "name": f"Item {n}", "price": "1.00", "tax_rate": "7"})
    await server.post("/api/v1/products/P0/prices", headers=admin, json={
        "price": "0.50", "effective_at": "2026-12-01T00:00:00+00:00", "store_id": "S002"})
    auth = {"Authorization": f"Bearer {tokens['S001']}"}
    resp = await server.get(PULL_PATH, params={"after": "0", "limit": "2"}, headers=auth)
    page = decode_changes(await resp.read())
    assert resp.content_type == CONTENT_TYPE
    assert ([c.cursor for c in page.changes], page.last_cursor, page.more) == ([1, 2], 2, True)
    resp = await server.get(PULL_PATH, params={"after": "2"}, headers=auth)
    page = decode_changes(await resp.read())
    assert [c.key for c in page.changes] == ["P2", "P3", "P4"] and not page.more
    s2 = {"Authorization": f"Bearer {tokens['S002']}"}
    page = decode_changes(await (await server.get(PULL_PATH, params={"after": "5"},
                                                  headers=s2)).read())
    assert [c.kind for c in page.changes] == ["price"]
    for params, status in (({"after": "-1"}, 400), ({"limit": "0"}, 400),
                           ({"after": "x"}, 400)):
        resp = await server.get(PULL_PATH, params=params, headers=auth)
        assert resp.status == status
    assert (await server.get(PULL_PATH, headers={"Authorization": "Bearer nope"})).status == 401
    bad = [({"name": "", "price": "1.00", "tax_rate": "7"}, "name"),
           ({"name": "x", "price": 1.5, "tax_rate": "7"}, None),  # refused at parse time
           ({"name": "x", "price": "-1.00", "tax_rate": "7"}, "price"),
           ({"name": "x", "price": "1.00", "tax_rate": "abc"}, "tax_rate")]
    for body, field in bad:
        resp = await server.put("/api/v1/products/BAD", headers=admin, json=body)
        problem = await resp.json()
        assert resp.status == 422 and problem.get("field") == field, problem
    resp = await server.post("/api/v1/products/NOPE/prices", headers=admin, json={
        "price": "1.00", "effective_at": "2026-12-01T00:00:00+00:00"})
    assert resp.status == 404


def test_a_malformed_change_page_is_refused_whole() -> None:
    import pytest

    from sync import DecodeError

    good = {"v": 1, "type": "changes", "last_cursor": 2, "more": False, "changes": [
        [1, "product", "A", {"sku": "A", "name": "A", "price": 1, "tax_rate": "7",
                             "barcodes": [], "active": True}]]}
    assert len(decode_changes(msgpack.packb(good)).changes) == 1
    for path, value, field in ((("changes", 0, 1), "recipe", "changes[0].kind"),
                               (("changes", 0, 3, "price"), "1.00", "changes[0].payload.price"),
                               (("more",), "no", "more")):
        message = msgpack.unpackb(msgpack.packb(good))
        target = message
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(DecodeError) as caught:
            decode_changes(msgpack.packb(message))
        assert caught.value.field == field


async def test_a_tax_rate_change_reaches_every_product_that_names_it(
        server_settings: Any, aiohttp_client: Any, agent_settings_factory: Any) -> None:
    server, tokens, admin = await _setup(server_settings, aiohttp_client)
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"), sync_token=tokens["S001"]))
    resp = await server.put("/api/v1/tax-rates/STD", headers=admin,
                            json={"rate": "7", "name": "Standard"})
    assert resp.status == 200
    resp = await server.put("/api/v1/products/7002", headers=admin, json={
        "name": "Coffee", "price": "10.00", "tax_rate": "7", "tax_code": "STD"})
    assert resp.status == 200
    for body, field in (({"rate": "100", "name": "x"}, "rate"), ({"rate": 7, "name": "x"},
                                                                  "rate"),
                        ({"rate": "7"}, "name")):
        resp = await server.put("/api/v1/tax-rates/BAD", headers=admin, json=body)
        assert resp.status == 422 and (await resp.json())["field"] == field
    await push_store(settings)
    agent = await aiohttp_client(create_agent(settings))
    await open_till(agent)
    _, sold = await call(agent, "POST", "/api/v1/sales", sale({"sku": "7002"}))
    assert (sold["tax"], sold["total"]) == ("0.70", "10.70")
    resp = await server.put("/api/v1/tax-rates/STD", headers=admin,
                            json={"rate": "8.5", "name": "Standard"})
    assert resp.status == 200
    result = await push_store(settings)
    assert result.pulled == 1
    _, sold = await call(agent, "POST", "/api/v1/sales", sale({"sku": "7002"}))
    assert (sold["tax"], sold["total"]) == ("0.85", "10.85")
