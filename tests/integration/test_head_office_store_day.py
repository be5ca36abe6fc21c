"""A whole store day reaches head office: stock, sales, voids, returns, cash and punches are
projected from the store's events, head office's stock mirrors the store's to the thousandth,
and the reports (JSON and CSV) add up to what the tills took."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server import create_app as create_server
from server.storage import Storage
from server.storage.tables import cash_movements, cash_sessions, sale_voids, time_punches
from store_agent.app import create_app as create_agent
from store_agent.clock import SystemClock
from store_agent.ledger import Ledger
from store_agent.sync_client import push_pending
from tests.integration.agent_helpers import (
    ledger_rows,
    prepared_settings,
)
from tests.integration.helpers import assert_problem, set_up_head_office
from tests.integration.store_day import store_day


async def test_a_store_day_at_head_office(server_settings: Any, agent_settings_factory: Any,
                                          aiohttp_client: Any) -> None:
    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    admin = office.admin
    for sku, name, price, cost, reorder in (("1001", "Whole milk 1 l", "1.29", "0.80", "20"),
                                            ("1002", "Rye bread", "2.49", "1.10", "5"),
                                            ("2001", "Dish soap", "1.99", None, None),
                                            ("3001", "Red wine 0.75 l", "8.99", "4.25", "2")):
        resp = await server.put(f"/api/v1/products/{sku}", headers=admin, json={
            "name": name, "price": price, "tax_rate": "7" if sku < "2" else "19",
            **({"cost": cost} if cost else {}), **({"reorder_level": reorder} if reorder
                                                     else {})})
        assert resp.status == 200, await resp.text()
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"),
        sync_token=office.store_tokens["S001"]))
    agent = await aiohttp_client(create_agent(settings))
    day = await store_day(agent)
    ledger = Ledger(settings.ledger.path, "S001")
    await ledger.open()
    try:
        result = await push_pending(ledger, settings, SystemClock())
    finally:
        await ledger.close()
    assert result.pushed == ledger_rows(settings.ledger.path, "SELECT max(seq) FROM events")[0][0]

    # Head office's stock is the store's, SKU by SKU, to the thousandth.
    store_stock = dict(ledger_rows(settings.ledger.path, "SELECT sku, on_hand_milli FROM stock"))
    resp = await server.get("/api/v1/stores/S001/inventory", headers=admin)
    inventory = {i["sku"]: i for i in (await resp.json())["items"]}
    assert {sku: int(Decimal(i["on_hand"]) * 1000) for sku, i in inventory.items()} == \
        {sku: milli for sku, milli in store_stock.items() if milli != 0 or sku in inventory}
    # milk: +24 -3 +1 (restocked return) +1 (void) -1 (count 19 from 20) ... = 19 on hand
    assert inventory["1001"]["on_hand"] == "19" and inventory["1001"]["low"] is True
    assert inventory["1001"]["value"] == "15.20"  # 19 x 0.80
    assert inventory["2001"]["on_hand"] == "-1" and inventory["2001"]["value"] is None
    resp = await server.get("/api/v1/stores/S001/inventory/1001/movements?limit=2",
                            headers=admin)
    first = await resp.json()
    resp = await server.get(f"/api/v1/stores/S001/inventory/1001/movements?limit=100&cursor="
                            f"{first['next_cursor']}", headers=admin)
    rest = await resp.json()
    moves = first["items"] + rest["items"]
    assert [m["kind"] for m in moves] == ["stock.received", "sale.completed", "sale.completed",
                                         "sale.voided", "return.completed", "stock.counted"]
    assert [m["on_hand_after"] for m in moves] == ["24", "21", "20", "21", "22", "19"]
    low = await (await server.get("/api/v1/reports/low-stock", headers=admin)).json()
    assert [(i["sku"], i["on_hand"], i["short_by"]) for i in low["items"]] == [
        ("1001", "19", "1")]
    valuation = await (await server.get("/api/v1/reports/inventory-valuation?store_id=S001",
                                        headers=admin)).json()
    [totals] = valuation["stores"]
    # milk 19 x 0.80 + bread (10 - 2 sold - 1 damaged) 7 x 1.10 + wine (6 - 1 - 2 sold; the
    # returned bottle was damaged, so not restocked) 3 x 4.25; soap has no cost
    assert totals["value"] == "35.65" and totals["skus_without_cost"] == 1
    assert totals["skus_below_zero"] == 1
    items = await (await server.get("/api/v1/reconciliation-items?store_id=S001",
                                    headers=admin)).json()
    assert sorted((i["kind"], i["detail"]["sku"]) for i in items["items"]) == [
        ("cost_unknown", "2001"), ("stock_below_zero", "2001")]  # soap: sold, never costed

    # The day in figures: sales, the void, the returns; average basket; returns rate.
    sold_total = sum(Decimal(s["total"]) for s in day["sold"])
    resp = await server.get("/api/v1/reports/sales-by-store", headers=admin)
    [row] = (await resp.json())["items"]
    assert (row["count"], Decimal(row["total"])) == (4, sold_total)
    assert (row["voids_count"], row["voids"]) == (1, day["sold"][3]["total"])
    assert row["returns_count"] == 2
    assert Decimal(row["net_total"]) == sold_total - Decimal(row["voids"]) - \
        Decimal(row["returns"])
    assert Decimal(row["average_basket"]) == (sold_total / 4).quantize(Decimal("0.01"))
    assert Decimal(row["returns_rate_percent"]) == (
        Decimal(row["returns"]) * 100 / sold_total).quantize(Decimal("0.01"))
    # Tenders net of change add up to the sales; cash net is what the drawer took in.
    resp = await server.get("/api/v1/reports/sales?group_by=tender", headers=admin)
    tenders = {t["tender"]: t for t in (await resp.json())["items"]}
    assert sum(Decimal(t["net"]) for t in tenders.values()) == sold_total
    assert tenders["card"]["net"] == "15.33" and tenders["card"]["tenders_count"] == 2
    resp = await server.get("/api/v1/reports/sales?group_by=product&store_id=S001",
                            headers=admin)
    products = {p["sku"]: p for p in (await resp.json())["items"]}
    assert (products["1001"]["quantity"], products["3001"]["quantity"]) == ("4", "3")
    resp = await server.get("/api/v1/reports/sales?group_by=store,hour,cashier", headers=admin)
    hours = (await resp.json())["items"]
    local_hour = datetime.now(ZoneInfo("Europe/Berlin")).hour
    assert sum(h["sales_count"] for h in hours) == 4
    assert {h["hour"] for h in hours} <= {local_hour, (local_hour - 1) % 24}
    assert {h["cashier"] for h in hours} == {"E100"}
    # The same report as CSV: a header and the same rows.
    resp = await server.get("/api/v1/reports/sales?group_by=tender&format=csv", headers=admin)
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert {r["tender"]: r["net"] for r in rows} == {k: v["net"] for k, v in tenders.items()}
    resp = await server.get("/api/v1/reports/sales-by-store",
                            headers={**admin, "Accept": "text/csv"})
    assert resp.content_type == "text/csv" and "returns_rate_percent" in await resp.text()

    # Cash and punches landed in their tables.
    storage = Storage(server_settings.database.url)
    try:
        async with storage.read() as conn:
            session = (await conn.execute(sa.select(cash_sessions))).one()
            kinds = sorted((await conn.execute(sa.select(cash_movements.c.kind))).scalars())
            punches = (await conn.execute(sa.select(time_punches.c.action).order_by(
                time_punches.c.seq))).scalars().all()
            voids = (await conn.execute(sa.select(sale_voids.c.sale_id))).scalars().all()
    finally:
        await storage.dispose()
    assert session.session_id == day["session_id"] and session.float_minor == 15000
    assert session.closed_seq is not None and session.over_short["cash"] == -100
    assert kinds == ["no_sale", "paid_in", "paid_out"]
    assert punches == ["in", "break_start", "break_end", "out"]
    assert voids == [day["sold"][3]["sale_id"]]


async def test_bad_report_queries_are_400(server_settings: Any, aiohttp_client: Any) -> None:
    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    for query, field in (("group_by=product,tender", "group_by"), ("group_by=weekday", "group_by"),
                         ("group_by=store,store", "group_by"), ("format=xml", "format"),
                         ("from=2026-12-01&to=2026-11-01", "from")):
        problem = await assert_problem(await server.get(f"/api/v1/reports/sales?{query}",
                                                        headers=office.admin), 400)
        assert problem["field"] == field
    await assert_problem(await server.get("/api/v1/stores/NOPE/inventory",
                                          headers=office.admin), 404)
    resp = await server.put("/api/v1/products/1001", headers=office.admin, json={
        "name": "Milk", "price": "1.29", "tax_rate": "7", "reorder_level": "-3"})
    assert (await assert_problem(resp, 422))["field"] == "reorder_level"
    resp = await server.put("/api/v1/products/1001", headers=office.admin, json={
        "name": "Milk", "price": "1.29", "tax_rate": "7", "cost": "0.805"})
    assert (await assert_problem(resp, 422))["field"] == "cost"
    assert (await server.get("/api/v1/products/1001", headers=office.admin)).status == 404
