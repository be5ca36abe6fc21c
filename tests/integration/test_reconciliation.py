"""Every authentic sale is accepted; what does not match head office's catalog becomes a
reconciliation item that head office lists and resolves — the store's queue never stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from server import create_app as create_server
from server.admin import enroll_store, init_database
from server.storage import Storage
from store_agent.app import create_app as create_agent
from store_agent.barcodes import variable_measure_label
from tests.integration.agent_helpers import (
    MANAGER,
    call,
    open_till,
    prepared_settings,
    push_store,
    sale,
)
from tests.integration.helpers import set_up_head_office


async def test_business_problems_become_items_not_a_blocked_queue(
        server_settings: Any, agent_settings_factory: Any, aiohttp_client: Any) -> None:
    storage = Storage(server_settings.database.url)
    init = await init_database(storage)
    token = await enroll_store(storage, "S001", "Main", "Europe/Berlin")
    await storage.dispose()
    server = await aiohttp_client(create_server(server_settings))
    admin = {"Authorization": f"Bearer {init.admin_token}"}
    # Head office knows milk at 1.19 (the store still sells it at 1.29), and bread as the store.
    for sku, name, price in (("1001", "Whole milk 1 l", "1.19"), ("1002", "Rye bread", "2.49"),
                             ("9002", "Deli salad", "0.00")):
        resp = await server.put(f"/api/v1/products/{sku}", headers=admin, json={
            "name": name, "price": price, "tax_rate": "7"})
        assert resp.status == 200
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"), sync_token=token))
    agent = await aiohttp_client(create_agent(settings))
    await open_till(agent)
    _, sold = await call(agent, "POST", "/api/v1/sales", sale(
        {"sku": "1001"}, {"sku": "1002"}, {"sku": "2001"},
        {"barcode": variable_measure_label("20", "54321", 349)},
        {"sku": "1002", "price_override": {"price": "1.00", "reason": "day old"}},
        manager=MANAGER))
    result = await push_store(settings)
    assert result.pushed == 2  # accepted whole: the session opening and the sale

    resp = await server.get("/api/v1/reconciliation-items?status=open", headers=admin)
    everything = (await resp.json())["items"]
    found = [i for i in everything if i["kind"] not in ("stock_below_zero", "cost_unknown")]
    assert sorted((i["kind"], i["detail"]["sku"]) for i in found) == [
        ("price_mismatch", "1001"), ("unknown_sku", "2001")]
    # The books costed what was sold without a cost, and said so: once per SKU.
    unknown_cost = sorted(i["detail"]["sku"] for i in everything if i["kind"] == "cost_unknown")
    assert unknown_cost == sorted(set(unknown_cost)) and "2001" in unknown_cost
    # Head office saw no stock arrive, so each SKU sold went below zero - once each, even
    # though the sale sold bread twice.
    below = [i for i in everything if i["kind"] == "stock_below_zero"]
    assert sorted(i["detail"]["sku"] for i in below) == ["1001", "1002", "2001", "9002"]
    assert all(i["detail"]["on_hand_before_milli"] == 0 for i in below)
    mismatch = next(i for i in found if i["kind"] == "price_mismatch")
    assert (mismatch["detail"]["store_price"], mismatch["detail"]["head_office_price"]) == \
        (129, 119)
    assert mismatch["detail"]["sale_id"] == sold["sale_id"]
    resp = await server.get("/api/v1/stores/S001", headers=admin)
    assert (await resp.json())["open_reconciliation_items"] == 6 + len(unknown_cost)

    item = f"/api/v1/reconciliation-items/{mismatch['id']}"
    resp = await server.post(f"{item}/resolve", headers=admin, json={"resolution": " "})
    assert resp.status == 422
    resp = await server.post(f"{item}/resolve", headers=admin, json={
        "resolution": "store had the old shelf price; price change sent down"})
    body = await resp.json()
    assert resp.status == 200 and body["status"] == "resolved"
    assert body["resolved_by"] == "first admin" and body["resolved_at"].endswith("+00:00")
    resp = await server.post(f"{item}/resolve", headers=admin, json={"resolution": "again"})
    assert resp.status == 409 and "already resolved" in (await resp.json())["detail"]
    assert (await server.get("/api/v1/reconciliation-items/999999", headers=admin)).status == 404
    resp = await server.get("/api/v1/reconciliation-items?status=maybe", headers=admin)
    assert resp.status == 400
    resp = await server.get("/api/v1/reconciliation-items?status=open", headers=admin)
    assert [i["kind"] for i in (await resp.json())["items"]
            if i["kind"] not in ("stock_below_zero", "cost_unknown")] == ["unknown_sku"]


async def test_one_open_item_per_problem_not_per_sale(server_settings: Any,
                                                      aiohttp_client: Any) -> None:
    from tests.integration.helpers import batch, chained, push, sales_facts, set_up_head_office

    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    events = chained("S001", sales_facts(6))  # each sells milk 1001 and soap 2001

    async def open_items() -> list[tuple[str, int]]:
        resp = await server.get("/api/v1/reconciliation-items?status=open",
                                headers=office.admin)
        return sorted((i["detail"]["sku"], i["seq"]) for i in (await resp.json())["items"]
                      if i["kind"] == "unknown_sku")

    for part in (events[:3], events[3:5]):
        assert (await push(server, batch("S001", part), office.store())).status == 200
    assert await open_items() == [("1001", 1), ("2001", 1)]  # the first sale names each
    resp = await server.get("/api/v1/reconciliation-items?status=open", headers=office.admin)
    milk = next(i for i in (await resp.json())["items"] if i["detail"]["sku"] == "1001")
    resp = await server.post(f"/api/v1/reconciliation-items/{milk['id']}/resolve",
                             headers=office.admin, json={"resolution": "added later"})
    assert resp.status == 200
    # Resolved, it comes back at its next occurrence; the open one does not repeat.
    assert (await push(server, batch("S001", events[5:]), office.store())).status == 200
    assert await open_items() == [("1001", 6), ("2001", 1)]


async def test_of_two_prices_from_the_same_instant_the_one_entered_last_is_in_force(
        server_settings: Any, agent_settings_factory: Any, aiohttp_client: Any) -> None:
    """Head office schedules a chain-wide price and a store's own price effective at the same
    instant: the one entered last is in force, at head office as at the store (which keeps
    one price per SKU and instant, the last it pulled) — whatever order the database returns
    them in. The store sells milk at 1.29 and bread at 2.49 from its own catalog."""
    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    for sku, name in (("1001", "Whole milk 1 l"), ("1002", "Rye bread")):
        resp = await server.put(f"/api/v1/products/{sku}", headers=office.admin, json={
            "name": name, "price": "0.99", "tax_rate": "7"})
        assert resp.status == 200
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    milk = ({"price": "1.29", "effective_at": when, "store_id": "S001"},  # then the chain's
            {"price": "1.19", "effective_at": when})
    bread = ({"price": "2.39", "effective_at": when},  # then the store's own
             {"price": "2.49", "effective_at": when, "store_id": "S001"})
    for sku, bodies in (("1001", milk), ("1002", bread)):
        for body in bodies:
            resp = await server.post(f"/api/v1/products/{sku}/prices", headers=office.admin,
                                     json=body)
            assert resp.status == 201, await resp.text()
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"),
        sync_token=office.store_tokens["S001"]))
    agent = await aiohttp_client(create_agent(settings))
    await open_till(agent)
    status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"},
                                                                {"sku": "1002"}))
    assert status == 201
    await push_store(settings)
    resp = await server.get("/api/v1/reconciliation-items?status=open", headers=office.admin)
    mismatches = [(i["detail"]["sku"], i["detail"]["store_price"],
                   i["detail"]["head_office_price"])
                  for i in (await resp.json())["items"] if i["kind"] == "price_mismatch"]
    assert mismatches == [("1001", 129, 119)]
