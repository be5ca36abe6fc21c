"""The demo's back-office work beyond selling: head office publishes the catalog (with costs and
reorder levels) and orders a transfer between two stores; stores receive their opening stock,
ship and receive transfers, take a return; and at the end head office's own figures — sales
with average basket and returns rate, tenders, stock value, transfers, open items — are shown
from its reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

import aiohttp
from rich import box
from rich.console import Console
from rich.table import Table

from backoffice.demo.shopping import CASHIERS, CATALOG, WEIGHED
from sync.money import format_minor

TRANSFER_ID = "TR-DEMO-1"


async def _json(resp: aiohttp.ClientResponse, *expected: int) -> Any:
    body = await resp.json(content_type=None)
    if resp.status not in expected:
        raise RuntimeError(f"{resp.method} {resp.url} answered {resp.status} (expected "
                           f"{expected}): {body}")
    return body


def _cost(price: str) -> str:
    """A plausible standard cost: 60 % of the shelf price, in cents."""
    cents = int(price.replace(".", "")) * 60 // 100
    return f"{cents // 100}.{cents % 100:02d}"


def _supplier_price(price: str) -> str:
    """What the supplier charged for the opening delivery: 58 % of the shelf price."""
    cents = int(price.replace(".", "")) * 58 // 100
    return f"{cents // 100}.{cents % 100:02d}"


async def publish_catalog(server_url: str, admin_token: str) -> None:
    """Head office owns the catalog: it is published there too (the stores imported the same
    CSV because they start before their first sync)."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with aiohttp.ClientSession(base_url=server_url, headers=headers) as session:
        for sku, name, price, rate, barcode in CATALOG:
            async with session.put(f"/api/v1/products/{sku}", json={
                    "name": name, "price": price, "tax_rate": rate, "barcodes": [barcode],
                    "cost": _cost(price), "reorder_level": "15"}) as resp:
                await _json(resp, 200)


async def order_transfer(server_url: str, admin_token: str, source: str, target: str) -> None:
    order = {"transfer_id": TRANSFER_ID, "from_store_id": source, "to_store_id": target,
             "note": "rebalance after the weekend",
             "lines": [{"sku": "1006", "quantity": "12"}, {"sku": "3001", "quantity": "6"}]}
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with aiohttp.ClientSession(base_url=server_url, headers=headers) as session, \
            session.post("/api/v1/transfers", json=order) as resp:
        await _json(resp, 200, 201)


async def receive_opening_stock(session: aiohttp.ClientSession, headers: dict[str, str],
                                store_id: str) -> None:
    async with session.post("/api/v1/stock/receipts", headers=headers, json={
            "receipt_id": f"{store_id}-opening-stock", "employee": CASHIERS[0],
            "reference": "opening delivery",
            "lines": [{"sku": sku, "quantity": "60" if sku in WEIGHED else "120",
                       "unit_cost": _supplier_price(price)}
                      for sku, _name, price, *_ in CATALOG]}) as resp:
        await _json(resp, 200, 201)


async def move_transfers(session: aiohttp.ClientSession, headers: dict[str, str],
                         store_id: str, day: int) -> list[str]:
    """Ship what this store has to ship and receive what has arrived (one case of coffee goes
    missing on the way, which head office will flag); returns what was done."""
    async with session.get("/api/v1/transfers", headers=headers) as resp:
        transfers = (await _json(resp, 200))["items"]
    done = []
    for transfer in transfers:
        if transfer["status"] == "to_ship":
            async with session.post(f"/api/v1/transfers/{transfer['transfer_id']}/ship",
                                    headers=headers, json={
                                        "shipment_id": f"{store_id}-ship-{day}",
                                        "employee": CASHIERS[0]}) as resp:
                await _json(resp, 200, 201)
            done.append(f"shipped {transfer['transfer_id']}")
        elif transfer["status"] == "to_receive":
            lines = [{"sku": line["sku"],
                      "quantity": str(int(line["quantity"]) - (1 if line["sku"] == "1006"
                                                               else 0))}
                     for line in transfer["lines"]]
            async with session.post("/api/v1/stock/receipts", headers=headers, json={
                    "receipt_id": f"{store_id}-receive-{day}", "employee": CASHIERS[0],
                    "transfer_id": transfer["transfer_id"], "lines": lines}) as resp:
                await _json(resp, 200, 201)
            done.append(f"received {transfer['transfer_id']}")
    return done


async def take_a_return(session: aiohttp.ClientSession, headers: dict[str, str],
                        sale_id: str, quantity: str, store_id: str, day: int) -> None:
    """A customer brings the first line of an earlier sale back (restocked)."""
    async with session.post("/api/v1/returns", headers=headers, json={
            "return_id": f"{store_id}-return-{day}", "employee": CASHIERS[0],
            "reason": "changed mind", "original_sale_id": sale_id,
            "lines": [{"line_no": 1, "quantity": quantity}]}) as resp:
        await _json(resp, 200, 201)


async def show_head_office(console: Console, server_url: str, admin_token: str) -> None:
    """Head office's view, from its own reports."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with aiohttp.ClientSession(base_url=server_url, headers=headers) as session:
        async with session.get("/api/v1/reports/sales-by-store") as resp:
            days = (await _json(resp, 200))["items"]
        async with session.get("/api/v1/reports/sales?group_by=store,tender") as resp:
            tenders = (await _json(resp, 200))["items"]
        async with session.get("/api/v1/reports/inventory-valuation") as resp:
            valuation = {s["store_id"]: s for s in (await _json(resp, 200))["stores"]}
        async with session.get("/api/v1/reports/low-stock") as resp:
            low = Counter(item["store_id"] for item in (await _json(resp, 200))["items"])
        async with session.get("/api/v1/transfers") as resp:
            transfers = (await _json(resp, 200))["items"]
        async with session.get("/api/v1/reports/in-transit") as resp:
            in_transit = (await _json(resp, 200))["items"]
        async with session.get("/api/v1/reconciliation-items?status=open&limit=1000") as resp:
            items = Counter(item["kind"] for item in (await _json(resp, 200))["items"])
    table = Table(title="head office: its own figures", box=box.SIMPLE_HEAD)
    for column in ("store", "business date", "sales", "total", "avg basket", "returns",
                   "returns rate", "net"):
        table.add_column(column, justify="left" if column in ("store", "business date")
                         else "right", no_wrap=True)
    for row in days:
        rate = row["returns_rate_percent"]
        table.add_row(row["store_id"], row["business_date"], str(row["count"]), row["total"],
                      row["average_basket"], row["returns"], f"{rate} %" if rate else "—",
                      row["net_total"])
    console.print(table)
    by_store: dict[str, dict[str, str]] = {}
    for row in tenders:
        by_store.setdefault(row["store_id"], {})[row["tender"]] = row["net"]
    stock = Table(title="tenders (net of change), stock at cost", box=box.SIMPLE_HEAD)
    for column in ("store", "cash", "card", "stock value", "SKUs at/below reorder level"):
        stock.add_column(column, justify="left" if column == "store" else "right",
                         no_wrap=True)
    for store_id in sorted(set(by_store) | set(valuation)):
        net = by_store.get(store_id, {})
        stock.add_row(store_id, net.get("cash", "0.00"), net.get("card", "0.00"),
                      valuation.get(store_id, {}).get("value", "0.00"), str(low[store_id]))
    console.print(stock)
    for transfer in transfers:
        console.print(f"transfer {transfer['transfer_id']} {transfer['from_store_id']} → "
                      f"{transfer['to_store_id']}: [bold]{transfer['status']}[/]"
                      + (f" ({len(in_transit)} lines in transit)" if in_transit else ""))
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(items.items())) or "none"
    console.print(f"open reconciliation items at head office: {summary}")


async def show_books(console: Console, server_url: str, admin_token: str,
                     export_to: Any = None) -> bool:
    """The books head office kept from the same events: the trial balance, each store's
    profit and loss, the sales tax owed, and ``books verify``; True when they verify."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with aiohttp.ClientSession(base_url=server_url, headers=headers) as session:
        async with session.get("/api/v1/books/trial-balance") as resp:
            trial = await _json(resp, 200)
        async with session.get("/api/v1/stores") as resp:
            store_ids = [s["store_id"] for s in (await _json(resp, 200))["items"]]
        statements = {}
        for store_id in store_ids:
            async with session.get(f"/api/v1/books/income-statement?store_id={store_id}") \
                    as resp:
                statements[store_id] = await _json(resp, 200)
        async with session.get("/api/v1/books/sales-tax") as resp:
            tax = (await _json(resp, 200))["items"]
        async with session.post("/api/v1/books/verify") as resp:
            verified = await _json(resp, 200)
        if export_to is not None:
            async with session.get("/api/v1/books/export?format=beancount") as resp:
                export_to.write_text(await resp.text(), encoding="utf-8")
    table = Table(title="the books: profit and loss per store (posted as the events arrived)",
                  box=box.SIMPLE_HEAD)
    for column in ("store", "net sales", "cost of goods", "gross margin", "shrink & other",
                   "net income"):
        table.add_column(column, justify="left" if column == "store" else "right",
                         no_wrap=True)
    for store_id, pnl in statements.items():
        revenue = sum(r["amount_minor"] for r in pnl["items"] if r["section"] == "revenue")
        cogs = sum(r["amount_minor"] for r in pnl["items"] if r["code"] == "5000")
        other = sum(r["amount_minor"] for r in pnl["items"]
                    if r["section"] == "expenses" and r["code"] != "5000")
        table.add_row(store_id, *(format_minor(v, 2) for v in (revenue, cogs, revenue - cogs,
                                                                other)), pnl["net_income"])
    console.print(table)
    owed = ", ".join(f"{t['tax']} at {t['rate']} %" for t in tax)
    console.print(f"trial balance: debits {trial['total_debit']} = credits "
                  f"{trial['total_credit']} ({'balanced' if trial['balanced'] else 'NOT'}); "
                  f"sales tax owed: {owed}", soft_wrap=True)
    if verified["ok"]:
        console.print(f"books verify: {verified['events']} events, {verified['entries']} "
                      "entries — every store, day, tax rate and tender agrees with the events")
    else:
        console.print(f"[bold red]books verify: {len(verified['differences'])} differences[/]:"
                      f" {verified['differences'][:3]}", soft_wrap=True)
    if export_to is not None:
        console.print(f"the books as a beancount ledger: {export_to}")
    return bool(verified["ok"] and trial["balanced"])
