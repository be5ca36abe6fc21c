"""Transfers between stores, end to end: head office orders one, both stores get it in their
pull feed, the sender ships (stock leaves, in transit at head office), the receiver receives
short (stock arrives, head office files the discrepancy) — each side an event in its own
ledger, and whichever store syncs first."""

from __future__ import annotations

from typing import Any

import pytest

from server import create_app as create_server
from store_agent.app import create_app as create_agent
from store_agent.ledger import open_ledger
from store_agent.ledger.verify import verify_ledger
from tests.integration.agent_helpers import (
    call,
    ledger_rows,
    new_id,
    prepared_settings,
    push_store,
)
from tests.integration.helpers import assert_problem, set_up_head_office

ORDER = {"transfer_id": "TR-1", "from_store_id": "S001", "to_store_id": "S002",
         "lines": [{"sku": "1001", "quantity": "10"}, {"sku": "1002", "quantity": "4"}],
         "note": "weekend promotion"}


def _stock(settings: Any) -> dict[str, int]:
    return dict(ledger_rows(settings.ledger.path, "SELECT sku, on_hand_milli FROM stock"))


@pytest.mark.parametrize("receiver_first", [False, True])
async def test_a_transfer_from_order_to_receipt(server_settings: Any, agent_settings_factory: Any,
                                                aiohttp_client: Any, receiver_first: bool
                                                ) -> None:
    office = await set_up_head_office(server_settings, ("S001", "S002"))
    server = await aiohttp_client(create_server(server_settings))
    admin = office.admin
    for sku, name, cost in (("1001", "Whole milk 1 l", "0.80"), ("1002", "Rye bread", "1.10")):
        resp = await server.put(f"/api/v1/products/{sku}", headers=admin, json={
            "name": name, "price": "2.00", "tax_rate": "7", "cost": cost})
        assert resp.status == 200
    url = str(server.make_url("")).rstrip("/")
    stores = {}
    for store_id in ("S001", "S002"):
        settings = prepared_settings(agent_settings_factory(
            store_id=store_id, head_office_url=url, sync_token=office.store_tokens[store_id]))
        stores[store_id] = (settings, await aiohttp_client(create_agent(settings)))
    (sender_settings, sender), (receiver_settings, receiver) = stores["S001"], stores["S002"]
    status, _ = await call(sender, "POST", "/api/v1/stock/receipts", {
        "receipt_id": new_id(), "employee": "E100",
        "lines": [{"sku": "1001", "quantity": "30"}, {"sku": "1002", "quantity": "8"}]})
    assert status == 201

    resp = await server.post("/api/v1/transfers", headers=admin, json=ORDER)
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["status"] == "ordered"
    again = await server.post("/api/v1/transfers", headers=admin, json=ORDER)
    assert again.status == 200  # the same order again: harmless
    await assert_problem(await server.post("/api/v1/transfers", headers=admin, json={
        **ORDER, "note": "different"}), 409, "already exists")

    for settings, _ in stores.values():
        await push_store(settings)
    status, listed = await call(sender, "GET", "/api/v1/transfers")
    assert [(t["transfer_id"], t["direction"], t["status"], t["to_store_id"])
            for t in listed["items"]] == [("TR-1", "out", "to_ship", "S002")]
    status, listed = await call(receiver, "GET", "/api/v1/transfers")
    assert [(t["direction"], t["status"], t["from_store_id"]) for t in listed["items"]] == [
        ("in", "to_receive", "S001")]
    # The receiver cannot ship what is addressed to it.
    status, body = await call(receiver, "POST", "/api/v1/transfers/TR-1/ship", {
        "shipment_id": new_id(), "employee": "E100"})
    assert status == 404, body

    status, shipped = await call(sender, "POST", "/api/v1/transfers/TR-1/ship", {
        "shipment_id": new_id(), "employee": "E100"})
    assert status == 201, shipped
    assert _stock(sender_settings) == {"1001": 20000, "1002": 4000}
    status, body = await call(sender, "POST", "/api/v1/transfers/TR-1/ship", {
        "shipment_id": new_id(), "employee": "E100"})
    assert status == 409 and "already shipped" in body["detail"]

    # One loaf went missing on the way: the receiver counts 3.
    status, _ = await call(receiver, "POST", "/api/v1/stock/receipts", {
        "receipt_id": new_id(), "employee": "E100", "transfer_id": "TR-1",
        "lines": [{"sku": "1001", "quantity": "10"}, {"sku": "1002", "quantity": "3"}]})
    assert status == 201
    assert _stock(receiver_settings) == {"1001": 10000, "1002": 3000}

    first, second = ((receiver_settings, sender_settings) if receiver_first
                     else (sender_settings, receiver_settings))
    await push_store(first)
    transfer = await (await server.get("/api/v1/transfers/TR-1", headers=admin)).json()
    if receiver_first:
        assert transfer["status"] == "received" and transfer["shipped"] is None
    else:
        assert transfer["status"] == "shipped" and transfer["received"] is None
        transit = await (await server.get("/api/v1/reports/in-transit", headers=admin)).json()
        assert [(i["sku"], i["quantity"], i["value"]) for i in transit["items"]] == [
            ("1001", "10", "8.00"), ("1002", "4", "4.40")]
    await push_store(second)
    transfer = await (await server.get("/api/v1/transfers/TR-1", headers=admin)).json()
    assert transfer["status"] == "received"
    assert transfer["shipped"]["lines"] == ORDER["lines"]
    transit = await (await server.get("/api/v1/reports/in-transit", headers=admin)).json()
    assert transit["items"] == []
    items = (await (await server.get("/api/v1/reconciliation-items?status=open",
                                     headers=admin)).json())["items"]
    discrepancies = [i["detail"] for i in items if i["kind"] == "transfer_discrepancy"]
    assert discrepancies == [{"transfer_id": "TR-1", "stage": "received vs shipped",
                              "differences": {"1002": {"expected_milli": 4000,
                                                       "got_milli": 3000}}}]
    # Head office's stock is each store's, and each ledger replays to its projections.
    for store_id, (settings, _) in stores.items():
        db = open_ledger(settings.ledger.path, store_id)
        try:
            assert verify_ledger(db, store_id).problems == []
        finally:
            db.close()
        inventory = await (await server.get(f"/api/v1/stores/{store_id}/inventory",
                                            headers=admin)).json()
        assert {i["sku"]: i["on_hand"] for i in inventory["items"]} == {
            sku: str(milli // 1000) for sku, milli in _stock(settings).items()}


async def test_bad_transfer_orders_change_nothing(server_settings: Any,
                                                  aiohttp_client: Any) -> None:
    office = await set_up_head_office(server_settings, ("S001", "S002"))
    server = await aiohttp_client(create_server(server_settings))
    resp = await server.put("/api/v1/products/1001", headers=office.admin, json={
        "name": "Milk", "price": "1.00", "tax_rate": "7"})
    assert resp.status == 200
    order = {**ORDER, "lines": [{"sku": "1001", "quantity": "2"}]}
    for change, field in ((lambda o: o.update(to_store_id="S001"), "to_store_id"),
                          (lambda o: o.update(to_store_id="S999"), "to_store_id"),
                          (lambda o: o.update(lines=[]), "lines"),
                          (lambda o: o.update(lines=[{"sku": "1001", "quantity": "0"}]),
                           "lines[0].quantity"),
                          (lambda o: o.update(lines=[{"sku": "1001", "quantity": "1"},
                                                     {"sku": "1001", "quantity": "1"}]),
                           "lines[1].sku"),
                          (lambda o: o.update(lines=[{"sku": "9999", "quantity": "1"}]),
                           "lines"),
                          (lambda o: o.update(transfer_id=""), "transfer_id")):
        body = {**order}
        change(body)
        problem = await assert_problem(await server.post("/api/v1/transfers",
                                                         headers=office.admin, json=body), 422)
        assert problem["field"] == field, problem
    listed = await (await server.get("/api/v1/transfers", headers=office.admin)).json()
    assert listed["items"] == []
    await assert_problem(await server.get("/api/v1/transfers/TR-1", headers=office.admin), 404)
