"""The books, kept as a real store day reaches head office (SQLite and PostgreSQL): every
event posts as it is ingested, the trial balance balances, the statements agree with the
tills, ``books verify`` finds nothing, the GL inventory equals the moving-average valuation,
the beancount export passes bean-check with the API's own trial balance — and what finance
types by hand is checked and refused whole when wrong, down to the database itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from backoffice.demo.processes import run_command
from server import create_app as create_server
from server.storage import Storage
from store_agent.app import create_app as create_agent
from tests.integration.agent_helpers import MANAGER, call, new_id, prepared_settings, push_store
from tests.integration.helpers import (
    Fact,
    assert_problem,
    batch,
    bean_check,
    central_counts,
    chained,
    push,
    sale_payload,
    set_up_head_office,
)
from tests.integration.store_day import store_day

PRODUCTS = (("1001", "Whole milk 1 l", "1.29", "0.80"), ("1002", "Rye bread", "2.49", "1.10"),
            ("2001", "Dish soap", "1.99", None), ("3001", "Red wine 0.75 l", "8.99", "4.25"))


async def _books_after_a_store_day(server_settings: Any, agent_settings_factory: Any,
                                   aiohttp_client: Any) -> tuple[Any, dict[str, str]]:
    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    for sku, name, price, cost in PRODUCTS:
        resp = await server.put(f"/api/v1/products/{sku}", headers=office.admin, json={
            "name": name, "price": price, "tax_rate": "7" if sku < "2" else "19",
            **({"cost": cost} if cost else {})})
        assert resp.status == 200, await resp.text()
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"),
        sync_token=office.store_tokens["S001"]))
    agent = await aiohttp_client(create_agent(settings))
    day = await store_day(agent)
    # Wine bought in at 4.40 this time: the moving average moves.
    status, body = await call(agent, "POST", "/api/v1/stock/receipts", {
        "receipt_id": new_id(), "employee": "E100",
        "lines": [{"sku": "3001", "quantity": "4", "unit_cost": "4.40"}]})
    assert status == 201, body
    status, body = await call(agent, "POST",
                              f"/api/v1/business-days/{day['z']['business_date']}/close",
                              {"manager": MANAGER})
    assert status == 201, body
    await push_store(settings)
    return server, office.admin


async def _get(server: Any, admin: dict[str, str], path: str) -> Any:
    resp = await server.get(path, headers=admin)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_a_store_day_in_the_books(server_settings: Any, agent_settings_factory: Any,
                                        aiohttp_client: Any, tmp_path: Path) -> None:
    server, admin = await _books_after_a_store_day(
        server_settings, agent_settings_factory, aiohttp_client)

    posting = await _get(server, admin, "/api/v1/books/posting")
    [store] = posting["items"]
    assert store["pending"] == 0 and store["stuck_seq"] is None, store

    trial = await _get(server, admin, "/api/v1/books/trial-balance")
    assert trial["balanced"] is True and trial["total_debit"] == trial["total_credit"]
    balance = {row["code"]: row["balance_minor"] for row in trial["items"]}

    # Sales tax per rate is what the sales collected less what the returns refunded.
    report = await _get(server, admin, "/api/v1/books/sales-tax")
    by_rate = {r["rate"]: r for r in report["items"]}
    assert set(by_rate) == {"7", "19"}
    assert -balance["2100"] == sum(r["tax_minor"] for r in report["items"])

    # Revenue in the P&L is net sales in the tax report; the till's shortage is an expense.
    pnl = await _get(server, admin, "/api/v1/books/income-statement")
    revenue = {r["code"]: r["amount_minor"] for r in pnl["items"] if r["section"] == "revenue"}
    assert sum(revenue.values()) == sum(r["net_sales_minor"] for r in report["items"])
    assert balance["2400"] == -2500  # paid in 25.00, waiting to be cleared
    expenses = {r["code"]: r["amount_minor"] for r in pnl["items"] if r["section"] == "expenses"}
    assert expenses["5200"] == 100  # counted one unit of currency short
    assert expenses["6000"] == 500  # paid out 5.00 for stamps

    sheet = await _get(server, admin, "/api/v1/books/balance-sheet")
    assert sheet["balanced"] is True
    assert sheet["unclosed_earnings"] == pnl["net_income"]

    # Inventory at moving-average cost equals the GL inventory account, to the cent.
    valuation = await _get(server, admin, "/api/v1/books/inventory-valuation")
    [row] = valuation["items"]
    assert row["difference_minor"] == 0 and row["value_minor"] == balance["1200"]

    resp = await server.post("/api/v1/books/verify", headers=admin)
    verified = await resp.json()
    assert resp.status == 200 and verified["ok"] is True, verified["differences"]
    assert verified["entries"] > 0

    # The general ledger of cash runs from zero to the cash balance, a page at a time.
    page = await _get(server, admin, "/api/v1/books/ledger/1000?limit=2")
    seen = page["items"]
    while page["next_cursor"]:
        page = await _get(server, admin,
                          f"/api/v1/books/ledger/1000?limit=2&cursor={page['next_cursor']}")
        seen += page["items"]
    assert seen[-1]["balance_minor"] == balance["1000"]
    assert sum(i["amount_minor"] for i in seen) == balance["1000"]

    # CSV of the trial balance is the same rows.
    resp = await server.get("/api/v1/books/trial-balance?format=csv", headers=admin)
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert len((await resp.text()).strip().splitlines()) == len(trial["items"]) + 1

    # The beancount export passes bean-check, and its balances are the API's trial balance.
    resp = await server.get("/api/v1/books/export?format=beancount", headers=admin)
    assert resp.status == 200
    ledger_file = tmp_path / "books.beancount"
    ledger_file.write_text(await resp.text(), encoding="utf-8")
    await bean_check(ledger_file)
    assert _beancount_balances(ledger_file) == {
        r["code"]: Decimal(r["debit"] or "0") - Decimal(r["credit"] or "0")
        for r in trial["items"]}
    resp = await server.get("/api/v1/books/export?format=csv", headers=admin)
    lines = (await resp.text()).strip().splitlines()
    assert lines[0].startswith("entry_key,posted_date") and len(lines) > 10

    # A store event's entry is corrected by the store (void, return), never reversed here.
    sale_entry = (await _get(server, admin,
                             "/api/v1/journal-entries?source=sale.completed&limit=1"))["items"][0]
    resp = await server.post(f"/api/v1/journal-entries/{sale_entry['entry_key']}/reverse",
                             headers=admin, json={"business_date": sale_entry["business_date"],
                                                  "memo": "try"})
    await assert_problem(resp, 409, "store corrects it")

    # The nightly job: nothing left to post, the closed business day recorded, no difference.
    resp = await server.post("/api/v1/books/jobs/nightly/run", headers=admin)
    run = await resp.json()
    assert resp.status == 200 and run["outcome"] == "ok", run
    assert run["days_closed"] == 1 and run["differences"] == 0
    jobs = await _get(server, admin, "/api/v1/books/jobs")
    assert jobs["items"][0]["slot"] == run["slot"] and jobs["items"][0]["outcome"] == "ok"
    resp = await server.post("/api/v1/books/jobs/nightly/run", headers=admin)
    assert (await resp.json())["days_closed"] == 0  # once

    # The same from the command line, against the database.
    config = tmp_path / "server.toml"
    status, output = await run_command(["books", "verify", "--config", str(config)])
    assert status == 0 and "no difference" in output, output
    status, output = await run_command(["books", "export", "--format", "beancount", "-o",
                                        str(tmp_path / "cli.beancount"), "--config",
                                        str(config)])
    assert status == 0, output
    await bean_check(tmp_path / "cli.beancount")
    today = datetime.now(UTC).date()
    status, output = await run_command(["books", "export", "--from", today.isoformat(),
                                        "--to", today.isoformat(), "-o",
                                        str(tmp_path / "today.beancount"), "--config",
                                        str(config)])
    assert status == 0, output
    await bean_check(tmp_path / "today.beancount")

    # A wrong posting — balanced, so the database takes it — is what verify is for: revenue
    # moved from the 7 % rate to 19 % under a store event's name.
    await _insert_entry(server_settings.database.url, "S001:999999", 999999, [
        ("4000", "7", 100), ("4000", "19", -100)])
    status, output = await run_command(["books", "verify", "--config", str(config)])
    flat = " ".join(output.split())
    assert status == 1 and "2 differences" in flat and "net_sales" in flat, output
    resp = await server.post("/api/v1/books/verify", headers=admin)
    assert (await resp.json())["ok"] is False


async def _insert_entry(url: str, key: str, seq: int,
                        lines: list[tuple[str, str, int]]) -> None:
    from server.storage.tables import journal_entries, journal_lines

    storage = Storage(url)
    today, now = date.today(), datetime.now(UTC)
    try:
        async with storage.write() as conn:
            await conn.execute(journal_lines.insert(), [
                {"entry_key": key, "line_no": n, "account_code": code, "store_id": "S001",
                 "sub": sub, "amount_minor": amount, "currency": "USD", "business_date": today,
                 "posted_date": today} for n, (code, sub, amount) in enumerate(lines, 1)])
            await conn.execute(journal_entries.insert().values(
                entry_key=key, store_id="S001", source="sale.completed", seq=seq,
                business_date=today, posted_date=today, currency="USD", memo="tampered",
                line_count=len(lines), late=False, reverses_key=None, created_by=None,
                created_at=now))
    finally:
        await storage.dispose()


def _beancount_balances(path: Path) -> dict[str, Decimal]:
    from beancount import loader  # the independent reader of our export

    entries, errors, _ = loader.load_file(str(path))
    assert not errors
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        for posting in getattr(entry, "postings", ()):
            code = posting.account.split(":")[1].split("-")[0]
            sums[code] += posting.units.number
    return {code: amount for code, amount in sums.items() if amount}


async def test_manual_entries_are_checked_and_refused_whole(
        server_settings: Any, aiohttp_client: Any) -> None:
    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    admin = office.admin
    today = datetime.now(UTC).date().isoformat()

    def entry(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"entry_id": new_id(), "business_date": today, "memo": "owner's capital",
                "lines": list(lines), **extra}

    good = entry({"account": "1000", "debit": "500.00", "store_id": "S001"},
                 {"account": "3000", "credit": "500.00", "store_id": "S001"})
    for body, status, words in (
            (entry({"account": "1000", "debit": "500.00"}, {"account": "3000",
                                                            "credit": "499.99"}),
             422, ("balance",)),
            (entry({"account": "1000", "debit": "5.00"}, {"account": "9999", "credit": "5.00"}),
             422, ("9999", "not an account")),
            (entry({"account": "1000", "debit": "5.001"}, {"account": "3000",
                                                           "credit": "5.001"}),
             422, ("decimal places",)),
            (entry({"account": "1000", "debit": 5.5}, {"account": "3000", "credit": 5.5}),
             422, ("decimal string",)),
            ({**good, "memo": ""}, 422, ("memo",)),
            (entry({"account": "1200", "debit": "5.00"}, {"account": "3000", "credit": "5.00"}),
             422, ("stock events",)),
            (entry({"account": "1000", "debit": "5.00", "store_id": "S999"},
                   {"account": "3000", "credit": "5.00", "store_id": "S999"}),
             422, ("not an enrolled store",)),
            (entry({"account": "1000", "debit": "sNaN"}, {"account": "3000", "credit": "1"}),
             422, ("debit",)),
            (entry({"account": "1000", "debit": "1E+999999999"},
                   {"account": "3000", "credit": "1"}), 422, ("debit",)),
            ({**good, "business_date": "2026-13-01"}, 422, ("business_date",))):
        resp = await server.post("/api/v1/journal-entries", headers=admin, json=body)
        await assert_problem(resp, status, *words)
    trial = await _get(server, admin, "/api/v1/books/trial-balance")
    assert trial["items"] == []  # nothing refused left a trace

    resp = await server.post("/api/v1/journal-entries", headers=admin, json=good)
    posted = await resp.json()
    assert resp.status == 201, posted
    assert posted["entry_key"] == f"manual:{good['entry_id']}"
    assert posted["created_by"] == "first admin"
    resp = await server.post("/api/v1/journal-entries", headers=admin, json=good)
    await assert_problem(resp, 409, "already posted")
    resp = await server.post(f"/api/v1/journal-entries/{posted['entry_key']}/reverse",
                             headers=admin, json={"business_date": today, "memo": "typo"})
    reversal = await resp.json()
    assert resp.status == 201 and reversal["reverses"] == posted["entry_key"]
    assert [ln["amount_minor"] for ln in reversal["lines"]] == \
        [-ln["amount_minor"] for ln in posted["lines"]]
    resp = await server.post(f"/api/v1/journal-entries/{posted['entry_key']}/reverse",
                             headers=admin, json={"business_date": today, "memo": "again"})
    await assert_problem(resp, 409, "already reversed")
    trial = await _get(server, admin, "/api/v1/books/trial-balance")
    assert trial["items"] == []  # the entry and its reversal cancel out

    # Accounts: added, never deleted once used, deactivated instead.
    resp = await server.post("/api/v1/accounts", headers=admin, json={
        "code": "6200", "name": "Store rent", "type": "expense"})
    assert resp.status == 201
    resp = await server.post("/api/v1/accounts", headers=admin, json={
        "code": "6200", "name": "Rent again", "type": "expense"})
    await assert_problem(resp, 409, "already exists")
    resp = await server.post("/api/v1/accounts", headers=admin, json={
        "code": "6300", "name": "Odd", "type": "income"})
    await assert_problem(resp, 422, "type")
    resp = await server.delete("/api/v1/accounts/1000", headers=admin)
    await assert_problem(resp, 409, "in use")
    resp = await server.patch("/api/v1/accounts/1000", headers=admin, json={"active": False})
    await assert_problem(resp, 409, "posting role")
    resp = await server.post("/api/v1/journal-entries", headers=admin, json=entry(
        {"account": "6200", "debit": "900.00", "store_id": "S001"},
        {"account": "1000", "credit": "900.00", "store_id": "S001"}, memo="November rent"))
    assert resp.status == 201
    resp = await server.patch("/api/v1/accounts/6200", headers=admin, json={"active": False})
    assert resp.status == 200 and (await resp.json())["active"] is False
    resp = await server.delete("/api/v1/accounts/6200", headers=admin)
    await assert_problem(resp, 409, "in use")
    resp = await server.post("/api/v1/journal-entries", headers=admin, json=entry(
        {"account": "6200", "debit": "1.00"}, {"account": "1000", "credit": "1.00"}))
    await assert_problem(resp, 422, "deactivated")

    # Odd numbers in paths and queries are 400s, not crashes.
    for path in ("/api/v1/fiscal-years/%C2%B2/close", "/api/v1/fiscal-periods/0000-01/close",
                 "/api/v1/fiscal-periods/%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95-01/close"):
        resp = await server.post(path, headers=admin)
        await assert_problem(resp, 400)
    resp = await server.get("/api/v1/journal-entries?limit=%C2%B9", headers=admin)
    await assert_problem(resp, 400, "limit")
    resp = await server.post("/api/v1/journal-entries", headers={
        **admin, "Content-Type": "application/json"}, data='{"entry_id": ' + "9" * 5000 + "}")
    await assert_problem(resp, 400)

    # A month that has not ended cannot close; a bad period is a 400.
    resp = await server.post(f"/api/v1/fiscal-periods/{today[:7]}/close", headers=admin)
    await assert_problem(resp, 409, "not ended")
    resp = await server.post("/api/v1/fiscal-periods/2026-13/close", headers=admin)
    await assert_problem(resp, 400, "YYYY-MM")
    resp = await server.get("/api/v1/books/trial-balance?as_of=yesterday", headers=admin)
    await assert_problem(resp, 400, "as_of")
    resp = await server.get("/api/v1/books/income-statement?from=2026-11-02&to=2026-11-01",
                            headers=admin)
    await assert_problem(resp, 400, "after")


async def test_a_closed_month_never_changes(server_settings: Any, aiohttp_client: Any) -> None:
    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    admin = office.admin
    last_year = datetime.now(UTC).year - 1
    resp = await server.post("/api/v1/journal-entries", headers=admin, json={
        "entry_id": "opening", "business_date": f"{last_year}-03-15", "memo": "capital",
        "lines": [{"account": "1000", "debit": "100.00"}, {"account": "3000",
                                                           "credit": "100.00"}]})
    assert resp.status == 201
    resp = await server.post("/api/v1/journal-entries", headers=admin, json={
        "entry_id": "sale", "business_date": f"{last_year}-03-20", "memo": "a sale by hand",
        "lines": [{"account": "1000", "debit": "30.00"}, {"account": "4000",
                                                          "credit": "30.00", "sub": "7"}]})
    assert resp.status == 201
    resp = await server.post(f"/api/v1/fiscal-periods/{last_year}-03/close", headers=admin)
    assert resp.status == 201
    resp = await server.post(f"/api/v1/fiscal-periods/{last_year}-03/close", headers=admin)
    await assert_problem(resp, 409, "already closed")
    resp = await server.post("/api/v1/journal-entries", headers=admin, json={
        "entry_id": "late", "business_date": f"{last_year}-03-31", "memo": "forgotten",
        "lines": [{"account": "1000", "debit": "1.00"}, {"account": "3000", "credit": "1.00"}]})
    await assert_problem(resp, 409, "closed")
    resp = await server.post(f"/api/v1/fiscal-years/{last_year}/close", headers=admin)
    await assert_problem(resp, 409, "close every month")
    for month in range(1, 13):
        if month != 3:
            resp = await server.post(f"/api/v1/fiscal-periods/{last_year}-{month:02d}/close",
                                     headers=admin)
            assert resp.status == 201
    resp = await server.post(f"/api/v1/fiscal-years/{last_year}/close", headers=admin)
    assert resp.status == 201, await resp.text()
    resp = await server.post(f"/api/v1/fiscal-years/{last_year}/close", headers=admin)
    await assert_problem(resp, 409, "already closed")
    sheet = await _get(server, admin, f"/api/v1/books/balance-sheet?as_of={last_year}-12-31")
    equity = {r["code"]: r["amount"] for r in sheet["items"] if r["section"] == "equity"}
    assert equity == {"3000": "100.00", "3100": "30.00"}  # the year's profit, retained
    assert sheet["unclosed_earnings"] == "0.00" and sheet["balanced"] is True
    pnl = await _get(server, admin,
                     f"/api/v1/books/income-statement?from={last_year}-01-01&to={last_year}-12-30")
    assert pnl["net_income"] == "30.00"


async def test_the_database_refuses_unbalanced_or_altered_entries(central_url: str,
                                                                  server_settings: Any) -> None:
    await set_up_head_office(server_settings)
    storage = Storage(central_url)
    now, today = datetime.now(UTC), date.today()

    def line(key: str, number: int, amount: int) -> dict[str, Any]:
        return {"entry_key": key, "line_no": number, "account_code": "1000", "store_id": "",
                "sub": "", "amount_minor": amount, "currency": "USD", "business_date": today,
                "posted_date": today}

    def head(key: str, count: int) -> dict[str, Any]:
        return {"entry_key": key, "store_id": None, "source": "manual", "seq": None,
                "business_date": today, "posted_date": today, "currency": "USD", "memo": "x",
                "line_count": count, "late": False, "reverses_key": None, "created_by": "sql",
                "created_at": now}

    from server.storage.tables import journal_entries, journal_lines

    try:
        with pytest.raises(sa.exc.DBAPIError, match="unbalanced"):
            async with storage.write() as conn:
                await conn.execute(journal_lines.insert(), [line("bad", 1, 100),
                                                            line("bad", 2, -99)])
                await conn.execute(journal_entries.insert(), [head("bad", 2)])
        async with storage.write() as conn:
            await conn.execute(journal_lines.insert(), [line("ok", 1, 100), line("ok", 2, -100)])
            await conn.execute(journal_entries.insert(), [head("ok", 2)])
        for statement, words in (
                (journal_lines.insert().values(**line("ok", 3, 0)), "already posted"),
                (journal_lines.update().values(amount_minor=1), "never change"),
                (journal_entries.delete(), "never change")):
            with pytest.raises(sa.exc.DBAPIError, match=words):
                async with storage.write() as conn:
                    await conn.execute(statement)
        async with storage.read() as conn:
            rows = (await conn.execute(sa.select(journal_lines.c.amount_minor)
                                       .order_by(journal_lines.c.line_no))).scalars().all()
        assert rows == [100, -100]
    finally:
        await storage.dispose()


async def test_books_catch_up_on_events_held_before_they_were_kept(
        server_settings: Any, agent_settings_factory: Any, aiohttp_client: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Events ingested while nothing posted them (a database upgraded to keep books) are
    posted later in chunks, each its own transaction, in seq order — and verify then."""
    from server import ingest
    from server.accounting.posting import default_accounting, post_pending

    async def not_posting(_conn: Any, _events: Any, _accounting: Any,
                          recording: Awaitable[None]) -> None:
        await recording  # recorded and projected, not posted

    monkeypatch.setattr(ingest, "_post", not_posting)
    server, admin = await _books_after_a_store_day(server_settings, agent_settings_factory,
                                                   aiohttp_client)
    posting = await _get(server, admin, "/api/v1/books/posting")
    [store] = posting["items"]
    assert store["posted_through"] == 0 and store["pending"] > 10
    resp = await server.post("/api/v1/books/verify", headers=admin)
    assert (await resp.json())["ok"] is False  # the money events are not in the books
    storage = Storage(server_settings.database.url)
    try:
        assert await post_pending(storage, "S001", default_accounting(), chunk=3) == \
            store["pending"]
        assert await post_pending(storage, "S001", default_accounting(), chunk=3) == 0
    finally:
        await storage.dispose()
    resp = await server.post("/api/v1/books/verify", headers=admin)
    verified = await resp.json()
    assert verified["ok"] is True, verified["differences"]
    trial = await _get(server, admin, "/api/v1/books/trial-balance")
    assert trial["balanced"] is True



async def test_goods_never_stocked_cost_their_standard_cost_in_every_push(
        server_settings: Any, agent_settings_factory: Any, aiohttp_client: Any) -> None:
    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    resp = await server.put("/api/v1/products/2001", headers=office.admin, json={
        "name": "Dish soap", "price": "1.99", "tax_rate": "19", "cost": "0.90"})
    assert resp.status == 200
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"),
        sync_token=office.store_tokens["S001"]))
    agent = await aiohttp_client(create_agent(settings))
    from tests.integration.agent_helpers import open_till, sale

    await open_till(agent)
    for _ in range(2):  # one sale per push: the second finds the position the first left
        status, _body = await call(agent, "POST", "/api/v1/sales", sale({"sku": "2001"}))
        assert status == 201
        await push_store(settings)
    entries = (await _get(server, office.admin,
                          "/api/v1/journal-entries?source=sale.completed"))["items"]
    assert len(entries) == 2
    for entry in entries:
        cogs = [ln for ln in entry["lines"] if ln["account"] == "5000"]
        assert [ln["debit"] for ln in cogs] == ["0.90"], entry


def _received(receipt: str, milk_cost: int, soap_cost: int) -> Fact:
    return Fact("stock.received", {"receipt_id": receipt, "transfer_id": None, "lines": [
        {"sku": "1001", "quantity": "10", "unit_cost": milk_cost},
        {"sku": "2001", "quantity": "10", "unit_cost": soap_cost}]})


def _void(sale: dict[str, Any]) -> Fact:
    return Fact("sale.voided", {
        "sale_id": sale["sale_id"], "reason": "wrong customer", "total": sale["total"],
        "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in sale["lines"]],
        "tenders": sale["tenders"], "change_due": sale["change_due"]})


def _cogs(entry: dict[str, Any]) -> Decimal:
    """What an entry moved on cost of goods sold: debits positive."""
    return sum((Decimal(ln["debit"] or "0") - Decimal(ln["credit"] or "0")
                for ln in entry["lines"] if ln["account"] == "5000"), Decimal(0))


@pytest.mark.parametrize("posted", ["while pushed", "catching up"])
async def test_voids_and_returns_find_their_sale_in_later_pushes_whatever_its_id(
        server_settings: Any, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch,
        posted: str) -> None:
    """A void or a return pushed after its sale mirrors that sale's own cost, looked up by
    the store and sale id — also for a sale whose id another store used first (head office
    cannot project it as a sale, the books still hold it). A sale id repeated in one store
    is posted, noted, and its void still refers to the first sale. The same whether the
    events are posted in their push or caught up on later (from the recorded events, where
    posting reads what the projection holds instead of being told by the recording)."""
    from server import ingest
    from server.accounting.posting import default_accounting, post_pending

    if posted == "catching up":
        async def not_posting(_conn: Any, _events: Any, _accounting: Any,
                              recording: Awaitable[Any]) -> None:
            await recording

        monkeypatch.setattr(ingest, "_post", not_posting)
    office = await set_up_head_office(server_settings, ("S001", "S002"))
    server = await aiohttp_client(create_server(server_settings))
    first = sale_payload(1, sale_id="sale-a")  # 2 milk + 1 soap in both stores
    again = sale_payload(2, sale_id="sale-a")
    other = sale_payload(2, sale_id="sale-b")
    giving_back = Fact("return.completed", {
        "return_id": "ret-1", "original_sale_id": "sale-b", "terminal_id": "T1",
        "receipt_no": 3, "total": 138, "tax": 9, "refunds": [
            {"type": "cash", "amount": 138, "reference": "", "approval_code": ""}],
        "lines": [{"sku": "1001", "quantity": "1", "amount": 138, "tax": 9,
                   "disposition": "restock", "original_line_no": 1}]})
    # S001: milk at 0.60, soap at 0.90; S002 (same sale id "sale-a"): 0.70 and 1.00.
    s1 = chained("S001", [_received("r1", 60, 90), Fact("sale.completed", first),
                          Fact("sale.completed", again), _void(first)])
    s2 = chained("S002", [_received("r2", 70, 100), Fact("sale.completed", first),
                          Fact("sale.completed", other), _void(first), giving_back])
    for store, events, split in (("S001", s1, 2), ("S002", s2, 3)):
        for part in (events[:split], events[split:]):  # the sale, then what refers to it
            resp = await push(server, batch(store, part), office.store(store))
            assert resp.status == 200, await resp.text()
            if posted == "catching up":  # each part posted before the next is pushed
                storage = Storage(server_settings.database.url)
                try:
                    assert await post_pending(storage, store, default_accounting()) == \
                        len(part)
                finally:
                    await storage.dispose()
    assert await central_counts(server_settings.database.url, "S002") == (5, 1)

    posting = await _get(server, office.admin, "/api/v1/books/posting")
    assert all(s["pending"] == 0 and s["stuck_seq"] is None for s in posting["items"])
    entry = {e.seq: await _get(server, office.admin, f"/api/v1/journal-entries/{e.store_id}:"
                               f"{e.seq}") for e in s1 + s2 if e.store_id == "S002"}
    assert _cogs(entry[2]) == Decimal("2.40")  # S002's own costs, not S001's 2.10
    assert _cogs(entry[4]) == Decimal("-2.40")  # its void gives back exactly that
    assert _cogs(entry[5]) == Decimal("-0.70")  # one milk of sale-b back
    s1_void = await _get(server, office.admin, "/api/v1/journal-entries/S001:4")
    assert _cogs(s1_void) == Decimal("-2.10")
    items = (await _get(server, office.admin, "/api/v1/reconciliation-items"))["items"]
    assert [(i["store_id"], i["seq"]) for i in items if i["kind"] == "duplicate_sale_id"] == \
        [("S001", 3)]
    assert not [i for i in items if i["kind"] == "void_unposted"]
    valuation = await _get(server, office.admin, "/api/v1/books/inventory-valuation")
    assert {r["store_id"]: r["difference_minor"] for r in valuation["items"]} == \
        {"S001": 0, "S002": 0}


async def test_a_renumbered_chart_moves_its_roles(central_url: str,
                                                  server_settings: Any) -> None:
    import tomllib

    from server.accounting.chart import DEFAULT_CHART, parse_chart
    from server.accounting.posting import sync_chart
    from server.storage.tables import accounts

    await set_up_head_office(server_settings)
    data = tomllib.loads(DEFAULT_CHART.read_text(encoding="utf-8"))
    storage = Storage(central_url)
    try:
        async with storage.write() as conn:
            assert await sync_chart(conn, parse_chart(data)) == len(data["account"])
        for account in data["account"]:  # cash moves from 1000 to 1010
            if account["code"] == "1000":
                account["code"] = "1010"
        data["tenders"]["cash"] = "1010"
        async with storage.write() as conn:
            assert await sync_chart(conn, parse_chart(data)) == 1
            roles = dict((await conn.execute(sa.select(accounts.c.code, accounts.c.role)
                                             .where(accounts.c.code.in_(["1000", "1010"])))
                          ).all())
        assert roles == {"1000": None, "1010": "cash"}
    finally:
        await storage.dispose()


_REFUSE_SALES = {
    "sqlite": ["""CREATE TRIGGER test_refuse_sales BEFORE INSERT ON journal_entries
                  WHEN NEW.source = 'sale.completed'
                  BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"""],
    "postgresql": ["""CREATE FUNCTION test_refuse_sales() RETURNS trigger LANGUAGE plpgsql AS $$
                      BEGIN
                        IF NEW.source = 'sale.completed' THEN
                          RAISE EXCEPTION 'refused by the test';
                        END IF;
                        RETURN NEW;
                      END $$""",
                   """CREATE TRIGGER test_refuse_sales BEFORE INSERT ON journal_entries
                      FOR EACH ROW EXECUTE FUNCTION test_refuse_sales()"""],
}


async def test_a_journal_write_the_database_refuses_stops_posting_not_the_sync(
        server_settings: Any, agent_settings_factory: Any, aiohttp_client: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refusing posting's journal rows (here a trigger added for the test, on
    both databases: the bulk writers' own error path) never refuses the store's authentic
    events: the pushes are acknowledged, the posting cursor stops at the first refused event
    with the database's reason, and once the cause is gone posting pending catches up and the
    books verify."""
    import tests.integration.test_books as this

    url = server_settings.database.url
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    original = this.set_up_head_office

    async def set_up_then_refuse(settings: Any) -> Any:
        office = await original(settings)
        storage = Storage(url)
        try:
            async with storage.write() as conn:
                for statement in _REFUSE_SALES[dialect]:
                    await conn.exec_driver_sql(statement)
        finally:
            await storage.dispose()
        return office

    monkeypatch.setattr(this, "set_up_head_office", set_up_then_refuse)
    server, admin = await _books_after_a_store_day(server_settings, agent_settings_factory,
                                                   aiohttp_client)
    [store] = (await _get(server, admin, "/api/v1/books/posting"))["items"]
    assert store["stuck_seq"] is not None and store["pending"] > 0, store
    assert "refused by the test" in store["stuck_reason"], store
    storage = Storage(url)
    try:
        async with storage.read() as conn:
            recorded = (await conn.execute(sa.text(
                "SELECT count(*) FROM store_events WHERE store_id = 'S001'"))).scalar_one()
            stuck_items = (await conn.execute(sa.text(
                "SELECT count(*) FROM reconciliation_items WHERE kind = 'posting_stuck' "
                "AND status = 'open'"))).scalar_one()
        assert recorded >= store["posted_through"] + store["pending"]
        assert stuck_items == 1
        async with storage.write() as conn:
            await conn.exec_driver_sql("DROP TRIGGER test_refuse_sales" +
                                       (" ON journal_entries" if dialect == "postgresql"
                                        else ""))
    finally:
        await storage.dispose()
    resp = await server.post("/api/v1/books/post-pending", headers=admin)
    assert resp.status == 200, await resp.text()
    [store] = (await _get(server, admin, "/api/v1/books/posting"))["items"]
    assert store["stuck_seq"] is None and store["pending"] == 0, store
    resp = await server.post("/api/v1/books/verify", headers=admin)
    verified = await resp.json()
    assert verified["ok"] is True, verified["differences"]
