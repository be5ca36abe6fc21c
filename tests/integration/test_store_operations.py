"""The store's day at the POS API, on a real SQLite ledger behind a real loopback socket:
cash sessions, discounts and approvals, scale labels, voids, returns, the time clock, stock,
business-day close, and ``agent verify`` agreeing with all of it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from store_agent.app import create_app
from store_agent.barcodes import LabelRules, variable_measure_label
from store_agent.ledger import open_ledger
from store_agent.ledger.verify import verify_ledger
from tests.integration.agent_helpers import (
    MANAGER,
    call,
    ledger_rows,
    new_id,
    open_till,
    prepared_settings,
    sale,
)


class HandClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.instant = start

    def now(self) -> datetime:
        return self.instant


@pytest.fixture
def clock() -> HandClock:
    return HandClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))


@pytest.fixture
async def agent(agent_settings_factory: Any, aiohttp_client: Any,
                clock: HandClock) -> tuple[TestClient, Any]:
    settings = prepared_settings(agent_settings_factory())
    return await aiohttp_client(create_app(settings, clock=clock)), settings


def _verify(settings: Any) -> list[str]:
    db = open_ledger(settings.ledger.path, settings.store.id)
    try:
        return verify_ledger(db, settings.store.id).problems
    finally:
        db.close()


async def test_a_sale_needs_an_open_cash_session(agent: tuple[TestClient, Any]) -> None:
    client, settings = agent
    status, body = await call(client, "POST", "/api/v1/sales", sale({"sku": "1001"}))
    assert status == 409 and "no open cash session" in body["detail"]
    assert ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM events") == [(0,)]
    await open_till(client)
    status, body = await call(client, "POST", "/api/v1/sales", sale({"sku": "1001"}))
    assert status == 201, body
    assert body["receipt"]["barcode"] == "T1-000001"
    assert any("TOTAL" in line for line in body["receipt"]["lines"])
    assert ledger_rows(settings.ledger.path, "SELECT kind, status FROM print_queue") == \
        [("receipt", "pending")]


async def test_one_open_session_per_drawer(agent: tuple[TestClient, Any]) -> None:
    client, _ = agent
    await open_till(client)
    status, body = await call(client, "POST", "/api/v1/cash-sessions",
                              {"session_id": new_id(), "employee": "E100", "float": "0.00"})
    assert status == 409 and "already has open cash session" in body["detail"]


async def test_discounts_above_the_limit_need_a_manager(agent: tuple[TestClient, Any]) -> None:
    client, settings = agent
    await open_till(client)
    line = {"sku": "3001", "quantity": "2", "discount": {"percent": "25", "reason": "dented"}}
    status, body = await call(client, "POST", "/api/v1/sales", sale(line))
    assert status == 403 and body["field"] == "manager"
    wrong = {"employee_id": "M1", "pin": "0000"}
    status, body = await call(client, "POST", "/api/v1/sales", sale(line, manager=wrong))
    assert status == 403 and "PIN" in body["detail"]
    cashier_as_manager = {"employee_id": "E101", "pin": "2222"}
    status, body = await call(client, "POST", "/api/v1/sales",
                              sale(line, manager=cashier_as_manager))
    assert status == 403 and "not a manager" in body["detail"]
    status, body = await call(client, "POST", "/api/v1/sales", sale(line, manager=MANAGER))
    assert status == 201, body
    # 2 x 8.99 = 17.98; 25 % off = 4.50 (4.495 half-up); 13.48 + 19 % tax 2.56 = 16.04
    assert (body["subtotal"], body["discount"], body["tax"], body["total"]) == \
        ("17.98", "4.50", "2.56", "16.04")
    assert ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM sales") == [(1,)]


async def test_small_discount_and_basket_discount_spread_over_rates(
        agent: tuple[TestClient, Any]) -> None:
    client, _ = agent
    await open_till(client)
    body = sale({"sku": "1002", "quantity": "2"}, {"sku": "2001"},
                basket_discount={"amount": "0.50", "reason": "loyalty"})
    status, answer = await call(client, "POST", "/api/v1/sales", body)
    assert status == 201, answer
    # 4.98 @7 % and 1.99 @19 %: 0.50 off spread 0.36 / 0.14 by largest remainder
    assert [line["amount"] for line in answer["lines"]] == ["4.62", "1.85"]
    assert [tax["tax"] for tax in answer["taxes"]] == ["0.32", "0.35"]
    assert answer["total"] == "7.14"


async def test_price_override_needs_manager_and_reason(agent: tuple[TestClient, Any]) -> None:
    client, _ = agent
    await open_till(client)
    override = {"sku": "3001", "price_override": {"price": "5.00", "reason": "price match"}}
    status, _ = await call(client, "POST", "/api/v1/sales", sale(override))
    assert status == 403
    no_reason = {"sku": "3001", "price_override": {"price": "5.00"}}
    status, body = await call(client, "POST", "/api/v1/sales", sale(no_reason, manager=MANAGER))
    assert status == 422 and body["field"] == "lines[0].price_override.reason"
    status, body = await call(client, "POST", "/api/v1/sales", sale(override, manager=MANAGER))
    assert status == 201 and body["lines"][0]["unit_price"] == "5.00"
    assert body["lines"][0]["list_price"] == "8.99"


async def test_scale_labels_carry_weight_or_price(agent: tuple[TestClient, Any]) -> None:
    client, _ = agent
    await open_till(client)
    weight = variable_measure_label("25", "12345", 355)  # 0.355 kg of cheese at 12.90/kg
    price = variable_measure_label("20", "54321", 349)  # a deli tub priced 3.49 by the scale
    status, body = await call(client, "POST", "/api/v1/sales",
                              sale({"barcode": weight}, {"barcode": price}))
    assert status == 201, body
    assert [(ln["quantity"], ln["amount"]) for ln in body["lines"]] == \
        [("0.355", "4.58"), ("1", "3.49")]
    status, body = await call(client, "POST", "/api/v1/sales",
                              sale({"barcode": weight, "quantity": "2"}))
    assert status == 422 and "scale label" in body["detail"]
    bad_check_digit = weight[:-1] + str((int(weight[-1]) + 1) % 10)
    status, body = await call(client, "POST", "/api/v1/sales",
                              sale({"barcode": bad_check_digit}))
    assert status == 422 and "check digit" in body["detail"]


async def test_the_store_file_sets_its_scale_label_layout(agent_settings_factory: Any,
                                                          aiohttp_client: Any,
                                                          clock: HandClock) -> None:
    # A store whose scales print 20-prefixed labels with a price check digit: 20 54321 X VVVV.
    settings = prepared_settings(agent_settings_factory(
        extra='\n[labels.prefixes]\n"20" = "price PP IIIII X VVVV C"\n'))
    client = await aiohttp_client(create_app(settings, clock=clock))
    label = variable_measure_label("20", "54321", 1249, settings_labels(settings))
    assert label[7] == "0" and label[8:12] == "1249"
    status, body = await call(client, "GET", f"/api/v1/products/{label}")
    assert status == 200 and (body["sku"], body["label_price"]) == ("9002", "12.49"), body
    # The default 25-29 weight rules are gone: that label is now an unknown GTIN.
    status, body = await call(client, "GET",
                              f"/api/v1/products/{variable_measure_label('25', '12345', 355)}")
    assert status == 404, body


async def test_tax_inclusive_store(agent_settings_factory: Any, aiohttp_client: Any,
                                   clock: HandClock) -> None:
    settings = prepared_settings(agent_settings_factory(), prices_include_tax=True)
    client = await aiohttp_client(create_app(settings, clock=clock))
    await open_till(client)
    status, body = await call(client, "POST", "/api/v1/sales",
                              sale({"sku": "3001"}, {"sku": "1001", "quantity": "3"}))
    assert status == 201, body
    # 8.99 contains 19 %: 1.44; 3.87 contains 7 %: 0.25; the total is what the shelf said
    assert body["total"] == "12.86"
    assert {t["rate"]: t["tax"] for t in body["taxes"]} == {"7": "0.25", "19": "1.44"}


async def test_void_rules(agent: tuple[TestClient, Any], clock: HandClock) -> None:
    client, settings = agent
    session_id = await open_till(client)
    _, first = await call(client, "POST", "/api/v1/sales", sale({"sku": "1001", "quantity": 3}))
    void = {"employee": "E100", "reason": "customer left"}
    status, body = await call(client, "POST", f"/api/v1/sales/{first['sale_id']}/void", void)
    assert status == 403
    status, body = await call(client, "POST", f"/api/v1/sales/{first['sale_id']}/void",
                              {**void, "manager": MANAGER})
    assert status == 201 and body["status"] == "voided", body
    again = await call(client, "POST", f"/api/v1/sales/{first['sale_id']}/void",
                       {**void, "manager": MANAGER})
    assert again == (200, body)  # the same request again: the same answer
    status, body = await call(client, "POST", f"/api/v1/sales/{first['sale_id']}/void",
                              {**void, "reason": "other", "manager": MANAGER})
    assert status == 409
    status, body = await call(client, "POST", f"/api/v1/sales/{new_id()}/void",
                              {**void, "manager": MANAGER})
    assert status == 404
    _, second = await call(client, "POST", "/api/v1/sales", sale({"sku": "1001"}))
    clock.instant += timedelta(days=1)
    status, body = await call(client, "POST", f"/api/v1/sales/{second['sale_id']}/void",
                              {**void, "manager": MANAGER})
    assert status == 409 and "take a return" in body["detail"]
    stock = ledger_rows(settings.ledger.path, "SELECT on_hand_milli FROM stock WHERE sku='1001'")
    assert stock == [(-1000,)]  # the voided three came back, the second sale's one did not
    summary = await call(client, "GET", "/api/v1/sales/summary")
    assert summary[1]["days"][0]["count"] == 1
    _, x_report = await call(client, "GET", f"/api/v1/cash-sessions/{session_id}/x-report")
    assert x_report["expected"]["cash"] == "101.38"  # float + the one sale left (1.29+0.09)
    assert _verify(settings) == []


async def test_returns_with_and_without_receipt(agent: tuple[TestClient, Any]) -> None:
    client, settings = agent
    await open_till(client)
    _, sold = await call(client, "POST", "/api/v1/sales",
                         sale({"sku": "1002", "quantity": "3"}, {"sku": "3001"}))
    ret = {"employee": "E100", "reason": "changed mind", "original_sale_id": sold["sale_id"]}
    parts = []
    for quantity in ("1", "2"):
        status, body = await call(client, "POST", "/api/v1/returns", {
            **ret, "return_id": new_id(), "lines": [{"line_no": 1, "quantity": quantity}]})
        assert status == 201, body
        parts.append(Decimal(body["total"]))
    # 3 x 2.49 = 7.47 + 7 % tax 0.52 = 7.99: the parts refund exactly the whole line
    assert sum(parts) == Decimal("7.99")
    status, body = await call(client, "POST", "/api/v1/returns", {
        **ret, "return_id": new_id(), "lines": [{"line_no": 1, "quantity": "1"}]})
    assert status == 422 and "0 left to return" in body["detail"]
    status, body = await call(client, "POST", "/api/v1/returns", {
        **ret, "return_id": new_id(), "lines": [{"line_no": 2, "quantity": "1",
                                                 "disposition": "damaged"}]})
    assert status == 201, body
    status, body = await call(client, "POST", "/api/v1/returns", {
        "return_id": new_id(), "employee": "E100", "reason": "no receipt",
        "lines": [{"sku": "2001", "quantity": "1"}]})
    assert status == 403  # without a receipt, a manager approves
    status, body = await call(client, "POST", "/api/v1/returns", {
        "return_id": new_id(), "employee": "E100", "reason": "no receipt", "manager": MANAGER,
        "lines": [{"sku": "2001", "quantity": "1"}], "refunds": [{"type": "cash"}]})
    assert status == 201 and body["total"] == "2.37", body
    stock = dict(ledger_rows(settings.ledger.path, "SELECT sku, on_hand_milli FROM stock"))
    assert stock == {"1002": 0, "3001": -1000, "2001": 1000}  # damaged wine is not restocked
    status, body = await call(client, "POST", f"/api/v1/sales/{sold['sale_id']}/void",
                              {"employee": "E100", "reason": "x", "manager": MANAGER})
    assert status == 409 and "returns" in body["detail"]
    assert _verify(settings) == []


async def test_cash_session_x_and_z_reports(agent: tuple[TestClient, Any]) -> None:
    client, settings = agent
    session_id = await open_till(client, float_="150.00")
    await call(client, "POST", "/api/v1/sales", sale(
        {"sku": "3001"}, tenders=[{"type": "cash", "amount": "20.00"}]))
    await call(client, "POST", "/api/v1/sales", sale(
        {"sku": "3001"}, tenders=[{"type": "card", "amount": "10.70", "reference": "****1"}]))
    base = f"/api/v1/cash-sessions/{session_id}"
    status, _ = await call(client, "POST", f"{base}/paid-in", {
        "movement_id": new_id(), "employee": "E100", "amount": "25.00", "reason": "change"})
    assert status == 201
    status, _ = await call(client, "POST", f"{base}/paid-out", {
        "movement_id": new_id(), "employee": "E100", "amount": "5.00", "reason": "stamps"})
    assert status == 403
    status, _ = await call(client, "POST", f"{base}/paid-out", {
        "movement_id": new_id(), "employee": "E100", "amount": "5.00", "reason": "stamps",
        "manager": MANAGER})
    assert status == 201
    status, _ = await call(client, "POST", f"{base}/no-sale", {
        "movement_id": new_id(), "employee": "E100", "reason": "check a note"})
    assert status == 201
    status, x_report = await call(client, "GET", f"{base}/x-report")
    assert status == 200 and x_report["report"] == "X"
    assert x_report["expected"] == {"card": "10.70", "cash": "180.70"}
    status, z_report = await call(client, "POST", f"{base}/close", {
        "employee": "E100", "counted": {"cash": "180.00"}})
    assert status == 201, z_report
    assert z_report["over_short"] == {"card": "0.00", "cash": "-0.70"}
    status, body = await call(client, "POST", "/api/v1/sales", sale({"sku": "3001"}))
    assert status == 409  # the drawer has no open session any more
    status, body = await call(client, "POST", f"{base}/paid-in", {
        "movement_id": new_id(), "employee": "E100", "amount": "1.00", "reason": "late"})
    assert status == 409 and "closed" in body["detail"]
    assert ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM events WHERE kind = "
                                             "'cash.no_sale'") == [(1,)]
    assert _verify(settings) == []


async def test_closed_business_day_refuses_sales(agent: tuple[TestClient, Any],
                                                 clock: HandClock) -> None:
    client, _ = agent
    session_id = await open_till(client)
    day = "2026-11-24"
    status, body = await call(client, "POST", f"/api/v1/business-days/{day}/close",
                              {"manager": MANAGER})
    assert status == 409 and session_id in body["detail"]
    await call(client, "POST", f"/api/v1/cash-sessions/{session_id}/close",
               {"employee": "E100", "counted": {"cash": "100.00"}})
    status, body = await call(client, "POST", f"/api/v1/business-days/{day}/close",
                              {"manager": MANAGER})
    assert status == 201, body
    status, body = await call(client, "POST", "/api/v1/sales", sale({"sku": "1001"}))
    assert status == 409 and "business day 2026-11-24 is closed" in body["detail"]
    status, body = await call(client, "POST", "/api/v1/cash-sessions",
                              {"session_id": new_id(), "employee": "E100", "float": "1.00"})
    assert status == 409 and "is closed" in body["detail"]
    status, again = await call(client, "POST", f"/api/v1/business-days/{day}/close",
                               {"manager": MANAGER})
    assert (status, again["status"]) == (200, "closed")  # a retry gets the same answer
    clock.instant += timedelta(days=1)
    await open_till(client)
    status, body = await call(client, "POST", "/api/v1/sales", sale({"sku": "1001"}))
    assert status == 201 and body["business_date"] == "2026-11-25"


async def test_time_clock_state_machine(agent: tuple[TestClient, Any]) -> None:
    client, _ = agent

    async def punch(action: str, employee: str = "E100") -> tuple[int, Any]:
        return await call(client, "POST", "/api/v1/punches",
                          {"punch_id": new_id(), "employee": employee, "action": action})

    status, body = await punch("out")
    assert status == 409 and "not clocked in" in body["detail"]
    for action, state in (("in", "working"), ("break_start", "on_break"),
                          ("break_end", "working"), ("out", "off")):
        status, body = await punch(action)
        assert (status, body["state"]) == (201, state), body
    status, body = await punch("break_end")
    assert status == 409 and "'off'" in body["detail"]
    status, body = await punch("in", employee="NOBODY")
    assert status == 422 and "no active employee" in body["detail"]
    status, body = await punch("lunch")
    assert status == 422
    status, shift = await call(client, "GET", "/api/v1/employees/E100/shift")
    assert shift["state"] == "off"


async def test_stock_receive_adjust_count(agent: tuple[TestClient, Any]) -> None:
    client, settings = agent
    await open_till(client)
    await call(client, "POST", "/api/v1/sales", sale({"sku": "1001", "quantity": "4"}))
    status, body = await call(client, "POST", "/api/v1/stock/receipts", {
        "receipt_id": new_id(), "employee": "E100", "transfer_id": "TR-1",
        "lines": [{"sku": "1001", "quantity": "24"}, {"sku": "2001", "quantity": "6"}]})
    assert status == 201 and body["kind"] == "transfer.received"
    status, body = await call(client, "POST", "/api/v1/stock/adjustments", {
        "adjustment_id": new_id(), "employee": "E100", "sku": "1001", "delta": "-2",
        "reason": "damaged"})
    assert status == 201 and body["on_hand"] == "18"
    status, body = await call(client, "POST", "/api/v1/stock/adjustments", {
        "adjustment_id": new_id(), "employee": "E100", "sku": "1001", "delta": "1",
        "reason": "because"})
    assert status == 422 and body["field"] == "reason"
    status, body = await call(client, "POST", "/api/v1/stock/counts", {
        "count_id": new_id(), "employee": "E100", "lines": [{"sku": "1001", "counted": "15"}]})
    assert status == 201
    assert body["lines"][0] | {"on_hand": None} == {
        "sku": "1001", "counted": "15", "on_hand_before": "18", "delta": "-3", "on_hand": None}
    status, product = await call(client, "GET", "/api/v1/products/4006381333931")
    assert (status, product["on_hand"], product["price"]) == (200, "15", "1.29")
    status, body = await call(client, "POST", "/api/v1/stock/receipts", {
        "receipt_id": new_id(), "employee": "E100", "lines": [{"sku": "NOPE", "quantity": 1}]})
    assert status == 404 and body["field"] == "lines[0].sku"
    assert _verify(settings) == []


async def test_product_lookup_and_search(agent: tuple[TestClient, Any]) -> None:
    client, _ = agent
    status, found = await call(client, "GET", "/api/v1/products?q=RED%20wine")
    assert status == 200 and [p["sku"] for p in found["items"]] == ["3001"]
    status, found = await call(client, "GET", "/api/v1/products?q=100%25")
    assert status == 200 and found["items"] == []  # a LIKE wildcard is taken literally
    status, body = await call(client, "GET", "/api/v1/products")
    assert status == 400 and body["field"] == "q"
    status, _ = await call(client, "GET", "/api/v1/products/0000000000000")
    assert status == 404


async def test_the_same_sale_from_two_terminals_at_once_is_one_sale(
        agent: tuple[TestClient, Any]) -> None:
    client, settings = agent
    await open_till(client, "T1")
    await open_till(client, "T2")
    body = sale({"sku": "1001"}, {"sku": "2001", "quantity": 2})
    answers = await asyncio.gather(*(call(client, "POST", "/api/v1/sales", body, terminal)
                                     for terminal in ("T1", "T2") * 5))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 9 + [201]
    assert len({str(answer) for _, answer in answers}) == 1
    assert ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM events WHERE kind = "
                                             "'sale.completed'") == [(1,)]


async def test_a_full_ledger_refuses_with_507_and_writes_nothing(
        agent_settings_factory: Any, aiohttp_client: Any, clock: HandClock) -> None:
    settings = prepared_settings(agent_settings_factory())
    settings = type(settings)(**{**{f: getattr(settings, f) for f in (
        "store", "head_office", "terminals", "http", "sync", "logging")},
        "ledger": type(settings.ledger)(path=settings.ledger.path, max_size_mb=1)})
    client = await aiohttp_client(create_app(settings, clock=clock))
    await open_till(client)
    big = [{"sku": "1001", "quantity": 1}] * 400
    status = 201
    for _ in range(200):
        status, body = await call(client, "POST", "/api/v1/sales", sale(
            *big, tenders=[{"type": "cash", "amount": "10000.00"}]))
        if status != 201:
            break
    assert status == 507, body
    assert "nothing was written" in body["detail"]
    assert _verify(settings) == []
    events = ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM events")[0][0]
    sales = ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM sales")[0][0]
    assert events == sales + 1  # the session opening, then one event per recorded sale


async def test_openapi_document_covers_every_route(agent: tuple[TestClient, Any]) -> None:
    client, _ = agent
    resp = await client.get("/api/v1/openapi.json")  # no token needed
    assert resp.status == 200
    document = await resp.json()
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in {"get", "post", "put", "delete"}}
    served = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if route.method in {"GET", "POST"} and path:
            served.add((path.replace("{movement}", "{m}"), route.method.lower()))
    expanded = set()
    for path, method in served:
        if "{m}" in path:
            expanded |= {(path.replace("{m}", m), method)
                         for m in ("paid-in", "paid-out", "no-sale")}
        else:
            expanded.add((path, method))
    assert expanded == documented


async def test_event_stream_pushes_ledger_notices(agent: tuple[TestClient, Any]) -> None:
    client, _ = agent
    resp = await client.get("/api/v1/events", headers={"Authorization": "Bearer nope-nope-nope"})
    assert resp.status == 401
    stream = await client.get("/api/v1/events",
                              headers={"Authorization": "Bearer terminal-two-test-token"})
    assert stream.status == 200 and stream.headers["Content-Type"] == "text/event-stream"
    assert await asyncio.wait_for(stream.content.readline(), 5) == b": connected\n"
    assert await asyncio.wait_for(stream.content.readline(), 5) == b"\n"
    await open_till(client)
    assert await asyncio.wait_for(stream.content.readline(), 5) == b"event: ledger\n"
    data = await asyncio.wait_for(stream.content.readline(), 5)
    assert data.startswith(b"data: ") and b'"seq":1' in data
    stream.close()


async def test_bad_requests_are_refused_with_problem_details_and_change_nothing(
        agent_settings_factory: Any, aiohttp_client: Any, clock: HandClock) -> None:
    import dataclasses

    settings = prepared_settings(agent_settings_factory())
    settings = dataclasses.replace(settings, http=dataclasses.replace(settings.http,
                                                                      max_body_bytes=4000))
    client = await aiohttp_client(create_app(settings, clock=clock))
    await open_till(client)
    before = ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM events")
    cases = [
        ({}, sale({"sku": "1001"}), 401, "missing terminal token"),
        ({"Authorization": "Bearer not-a-terminal-token"}, sale({"sku": "1001"}), 401,
         "not recognised"),
        (None, sale(*[{"sku": "1001", "quantity": 1}] * 200), 413, "too large"),
        (None, "sale_id=1", 415, "application/json"),
        (None, b"{not json", 400, "not valid JSON"),
        (None, [1, 2], 422, "JSON object"),
        (None, sale({"sku": "1001", "quantity": 0}), 422, "greater than zero"),
        (None, sale({"sku": "1001", "quantity": -2}), 422, "greater than zero"),
        (None, sale({"sku": "1001", "quantity": "abc"}), 422, "not a number"),
        (None, sale({"sku": "1001", "quantity": 1.5}), 422, "decimal strings"),
        (None, sale({"barcode": "4006381333931"}, tenders=[
            {"type": "card", "amount": "1.38", "reference": "4111 1111 1111 1111"}]), 422,
         "full card number"),
        (None, sale({"sku": "1001"}, tenders=[{"type": "cash", "amount": "1.00"}]), 422,
         "add a tender"),
        (None, sale({"sku": "1001"}, tenders=[{"type": "iou", "amount": "9.00"}]), 422,
         "must be one of"),
        (None, sale({"sku": "NOPE"}), 404, "unknown SKU"),
        (None, {**sale({"sku": "1001"}), "sale_id": "short"}, 422, "sale_id"),
    ]
    for headers, body, status, words in cases:
        if headers is None:
            headers = {"Authorization": "Bearer terminal-one-test-token"}
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, str | bytes) else {"json": body}
        if isinstance(body, str):
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        elif isinstance(body, bytes):
            headers = {**headers, "Content-Type": "application/json"}
        resp = await client.post("/api/v1/sales", headers=headers, **kwargs)
        problem = await resp.json()
        assert resp.status == status, (body, problem)
        assert resp.content_type == "application/problem+json"
        assert words in problem["detail"], problem
    assert ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM events") == before
    assert ledger_rows(settings.ledger.path, "SELECT COUNT(*) FROM sales") == [(0,)]


def settings_labels(settings: Any) -> LabelRules:
    return LabelRules.parse(settings.labels.prefixes)
