"""The POS sales API of the store agent on a real SQLite ledger behind a real loopback socket:
authentication, sales with totals and receipt numbers, idempotency (also under concurrency),
refusals that write nothing, quotes, status and summary, and the ledger's own guarantees."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from config import AgentSettings
from store_agent.app import create_app
from sync.events import GENESIS_HASH, StoreEvent, first_broken_link
from tests.integration.helpers import (
    assert_problem,
    ledger_events,
    ledger_query,
    new_id,
    open_drawer,
    ready_ledger,
    sale_request,
    terminal,
)

Agent = tuple[TestClient, AgentSettings]


@pytest.fixture
def settings(agent_settings_factory: Callable[..., AgentSettings],
             catalog_csv: Path) -> AgentSettings:
    return ready_ledger(agent_settings_factory(), catalog_csv)


@pytest.fixture
async def agent(settings: AgentSettings, aiohttp_client: Any) -> Agent:
    client = await aiohttp_client(create_app(settings))
    await open_drawer(client, "T1")
    return client, settings


async def post_sale(client: TestClient, body: Any, terminal_id: str = "T1") -> tuple[int, Any]:
    resp = await client.post("/api/v1/sales", json=body, headers=terminal(terminal_id))
    return resp.status, await resp.json(content_type=None)


# -- authentication ---------------------------------------------------------------------------

async def test_api_needs_a_known_terminal_token_but_healthz_is_open(agent: Agent) -> None:
    client, settings = agent
    before = ledger_events(settings.ledger.path)
    resp = await client.post("/api/v1/sales", json=sale_request())
    await assert_problem(resp, 401, "missing terminal token")
    resp = await client.post("/api/v1/sales", json=sale_request(),
                             headers={"Authorization": "Bearer not-a-terminal-token"})
    await assert_problem(resp, 401, "not recognised")
    resp = await client.get("/api/v1/status", headers={"Authorization": "Basic dDE6eA=="})
    await assert_problem(resp, 401, "missing terminal token")
    assert ledger_events(settings.ledger.path) == before

    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "store_id": "S001"}


# -- a sale -----------------------------------------------------------------------------------

async def test_cash_sale_answers_totals_change_and_receipt_number(agent: Agent) -> None:
    client, settings = agent
    body = sale_request({"sku": "1001", "quantity": "2"}, {"barcode": "4012345000023"},
                        {"sku": "2001"}, tenders=[{"type": "cash", "amount": "20.00"}])
    status, sale = await post_sale(client, body)
    assert status == 201, sale
    # 7 %: 2 x 1.29 + 2.49 = 5.07 -> 0.3549 -> 0.35; 19 %: 1.99 -> 0.3781 -> 0.38
    assert [(t["rate"], t["taxable"], t["tax"]) for t in sale["taxes"]] == [
        ("7", "5.07", "0.35"), ("19", "1.99", "0.38")]
    assert (sale["subtotal"], sale["tax"], sale["total"]) == ("7.06", "0.73", "7.79")
    assert (sale["tendered"], sale["change_due"]) == ("20.00", "12.21")
    assert (sale["receipt_no"], sale["receipt_number"]) == (1, "T1-000001")
    assert sale["receipt"]["barcode"] == "T1-000001"
    assert (sale["sale_id"], sale["terminal_id"], sale["cashier"]) == \
        (body["sale_id"], "T1", "E100")
    assert [(ln["sku"], ln["quantity"], ln["amount"]) for ln in sale["lines"]] == [
        ("1001", "2", "2.58"), ("1002", "1", "2.49"), ("2001", "1", "1.99")]
    rows = ledger_query(settings.ledger.path, "SELECT kind, payload FROM events ORDER BY seq")
    assert [kind for kind, _ in rows] == ["cash.session_opened", "sale.completed"]
    recorded = json.loads(rows[-1][1])
    assert (recorded["total"], recorded["change_due"], recorded["receipt_no"]) == (779, 1221, 1)
    assert ledger_query(settings.ledger.path, "SELECT COUNT(*) FROM print_queue") == [(1,)]


async def test_card_sale_with_masked_reference(agent: Agent) -> None:
    client, _ = agent
    status, sale = await post_sale(client, sale_request({"sku": "3001"}, tenders=[
        {"type": "card", "amount": "10.70", "reference": "****1111", "approval_code": "A1B2"}]))
    assert status == 201, sale
    assert (sale["total"], sale["change_due"]) == ("10.70", "0.00")
    assert sale["tenders"] == [{"type": "card", "amount": "10.70", "reference": "****1111"}]


async def test_receipt_numbers_are_gap_free_per_terminal_and_independent(agent: Agent) -> None:
    client, settings = agent
    await open_drawer(client, "T2")
    numbers: dict[str, list[str]] = {"T1": [], "T2": []}
    for terminal_id in ("T1", "T2", "T1", "T1", "T2"):
        status, sale = await post_sale(client, sale_request(), terminal_id)
        assert status == 201, sale
        numbers[terminal_id].append(sale["receipt_number"])
    # A refused sale consumes no number.
    status, _ = await post_sale(client, sale_request({"sku": "NOPE"}), "T1")
    assert status == 404
    status, sale = await post_sale(client, sale_request(), "T1")
    assert status == 201
    numbers["T1"].append(sale["receipt_number"])
    assert numbers == {"T1": ["T1-000001", "T1-000002", "T1-000003", "T1-000004"],
                       "T2": ["T2-000001", "T2-000002"]}
    assert ledger_query(settings.ledger.path, "SELECT terminal_id, last_no FROM "
                                              "receipt_counters ORDER BY terminal_id") == [
        ("T1", 4), ("T2", 2)]


# -- idempotency ------------------------------------------------------------------------------

async def test_the_same_sale_again_gets_the_same_answer_and_records_nothing(agent: Agent) -> None:
    client, settings = agent
    body = sale_request({"sku": "1001"}, {"sku": "2001", "quantity": 3})
    status, first = await post_sale(client, body)
    assert status == 201
    events = ledger_events(settings.ledger.path)
    status, again = await post_sale(client, body)
    assert status == 200
    assert again == first
    assert ledger_events(settings.ledger.path) == events
    assert ledger_query(settings.ledger.path, "SELECT COUNT(*) FROM events WHERE kind = "
                                              "'sale.completed'") == [(1,)]

    changed = {**body, "tenders": [{"type": "cash", "amount": "60.00"}]}
    status, problem = await post_sale(client, changed)
    assert status == 409
    assert problem["status"] == 409 and body["sale_id"] in problem["detail"]
    assert ledger_events(settings.ledger.path) == events

    # The next new sale still gets the next receipt number.
    status, nxt = await post_sale(client, sale_request())
    assert (status, nxt["receipt_number"]) == (201, "T1-000002")


async def test_a_conflicting_sale_id_is_refused_as_problem_json(agent: Agent) -> None:
    client, settings = agent
    body = sale_request()
    status, _ = await post_sale(client, body)
    assert status == 201
    before = ledger_events(settings.ledger.path)
    resp = await client.post("/api/v1/sales", headers=terminal(), json={
        **body, "lines": [{"sku": "3001"}]})
    await assert_problem(resp, 409, body["sale_id"], "different content")
    assert ledger_events(settings.ledger.path) == before


async def test_the_same_new_sale_posted_concurrently_is_one_sale(agent: Agent) -> None:
    client, settings = agent
    await open_drawer(client, "T2")
    before = ledger_events(settings.ledger.path)
    body = sale_request({"sku": "1001"}, {"barcode": "4006381333931", "quantity": 2})
    answers = await asyncio.gather(*(post_sale(client, body, terminal_id)
                                     for terminal_id in ("T1", "T2") * 5))
    assert sorted(status for status, _ in answers) == [200] * 9 + [201]
    assert all(answer == answers[0][1] for _, answer in answers)
    assert answers[0][1]["sale_id"] == body["sale_id"]
    assert ledger_events(settings.ledger.path) == before + 1
    assert ledger_query(settings.ledger.path, "SELECT COUNT(*) FROM sales") == [(1,)]


# -- refusals ---------------------------------------------------------------------------------

REFUSED: list[tuple[str, dict[str, Any], int, str, str | None]] = [
    ("unknown barcode", sale_request({"barcode": "4000000000006"}), 404, "unknown barcode",
     "lines[0].barcode"),
    ("unknown sku", sale_request({"sku": "1001"}, {"sku": "NOPE"}), 404, "unknown SKU 'NOPE'",
     "lines[1].sku"),
    ("quantity 0", sale_request({"sku": "1001", "quantity": 0}), 422, "greater than zero",
     "lines[0].quantity"),
    ("negative quantity", sale_request({"sku": "1001", "quantity": -1}), 422,
     "greater than zero", "lines[0].quantity"),
    ("quantity abc", sale_request({"sku": "1001", "quantity": "abc"}), 422, "not a number",
     "lines[0].quantity"),
    ("no lines", {**sale_request(), "lines": []}, 422, "at least one line", "lines"),
    ("tenders short", sale_request({"sku": "3001"}, tenders=[{"type": "cash",
                                                              "amount": "5.00"}]),
     422, "add a tender", None),
    ("card above total", sale_request({"sku": "1001"}, tenders=[
        {"type": "card", "amount": "5.00", "reference": "****1111"}]), 422,
     "change is given only from cash", "tenders"),
    ("full card number", sale_request({"sku": "1001"}, tenders=[
        {"type": "card", "amount": "1.38", "reference": "4111111111111111"}]), 422,
     "full card number", "tenders[0].reference"),
    ("card number with spaces", sale_request({"sku": "1001"}, tenders=[
        {"type": "cash", "amount": "2.00", "approval_code": "4111 1111 1111 1111"}]), 422,
     "full card number", "tenders[0].reference"),
    ("unknown tender", sale_request({"sku": "1001"}, tenders=[{"type": "iou",
                                                               "amount": "5.00"}]),
     422, "must be one of", "tenders[0].type"),
    ("no tenders", {**sale_request(), "tenders": []}, 422, "at least one tender", "tenders"),
    ("card without reference", sale_request({"sku": "1001"}, tenders=[
        {"type": "card", "amount": "1.38"}]), 422, "masked reference", "tenders[0].reference"),
    ("bad sale_id", {**sale_request(), "sale_id": "x"}, 422, "sale_id", "sale_id"),
]


@pytest.mark.parametrize(("body", "status", "words", "field"),
                         [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
async def test_refused_sales_name_the_problem_and_write_nothing(
        agent: Agent, body: dict[str, Any], status: int, words: str, field: str | None) -> None:
    client, settings = agent
    before = ledger_events(settings.ledger.path)
    resp = await client.post("/api/v1/sales", json=body, headers=terminal())
    problem = await assert_problem(resp, status, words)
    if field is not None:
        assert problem.get("field") == field, problem
    assert ledger_events(settings.ledger.path) == before
    assert ledger_query(settings.ledger.path, "SELECT COUNT(*) FROM sales") == [(0,)]
    assert ledger_query(settings.ledger.path, "SELECT COUNT(*) FROM receipt_counters") == [(0,)]
    assert ledger_query(settings.ledger.path, "SELECT COUNT(*) FROM print_queue") == [(0,)]


async def test_malformed_bodies_are_refused_by_the_body_parser(agent: Agent) -> None:
    client, settings = agent
    before = ledger_events(settings.ledger.path)
    body = sale_request()
    float_body = json.dumps(body).replace('"lines": [{"sku": "1001"}]',
                                          '"lines": [{"sku": "1001", "quantity": 1.5}]')
    assert "1.5" in float_body
    cases: list[tuple[bytes | str, str, int, str]] = [
        (float_body, "application/json", 422, "numbers with a fraction"),
        (b'{"sale_id": ', "application/json", 400, "not valid JSON"),
        (b"\xff\xfe{}", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 422, "JSON object"),
        (json.dumps(body), "text/plain", 415, "application/json"),
        (json.dumps(body), "application/x-www-form-urlencoded", 415, "application/json"),
    ]
    for data, content_type, status, words in cases:
        resp = await client.post("/api/v1/sales", data=data, headers={
            **terminal(), "Content-Type": content_type})
        await assert_problem(resp, status, words)
    assert ledger_events(settings.ledger.path) == before


async def test_a_body_above_max_body_bytes_gets_413(settings: AgentSettings,
                                                    aiohttp_client: Any) -> None:
    small = dataclasses.replace(settings, http=dataclasses.replace(settings.http,
                                                                   max_body_bytes=2000))
    client = await aiohttp_client(create_app(small))
    await open_drawer(client)
    before = ledger_events(settings.ledger.path)
    big = sale_request(*[{"sku": "1001", "quantity": 1}] * 100)
    assert len(json.dumps(big)) > 2000
    resp = await client.post("/api/v1/sales", json=big, headers=terminal())
    await assert_problem(resp, 413, "too large")
    assert ledger_events(settings.ledger.path) == before
    status, sale = await post_sale(client, sale_request())  # a normal sale still fits
    assert status == 201, sale


# -- quotes, status, summary ------------------------------------------------------------------

async def test_a_quote_prices_the_basket_and_records_nothing(agent: Agent) -> None:
    client, settings = agent
    before = ledger_events(settings.ledger.path)
    basket = {"lines": [{"sku": "1001", "quantity": "2"}, {"barcode": "4012345000023"}]}
    resp = await client.post("/api/v1/quotes", json=basket, headers=terminal())
    quote = await resp.json()
    assert resp.status == 200, quote
    assert (quote["subtotal"], quote["tax"], quote["total"]) == ("5.07", "0.35", "5.42")
    assert quote["currency"] == "USD" and "receipt_no" not in quote
    assert ledger_events(settings.ledger.path) == before
    resp = await client.post("/api/v1/quotes", json={"lines": [{"sku": "NOPE"}]},
                             headers=terminal())
    await assert_problem(resp, 404, "unknown SKU")
    status, sale = await post_sale(client, sale_request(*basket["lines"]))
    assert (status, sale["total"], sale["receipt_no"]) == (201, "5.42", 1)


async def test_status_shows_pending_events(agent: Agent) -> None:
    client, _ = agent
    for _ in range(2):
        status, _ = await post_sale(client, sale_request())
        assert status == 201
    resp = await client.get("/api/v1/status", headers=terminal("T2"))
    body = await resp.json()
    assert resp.status == 200, body
    assert body["store_id"] == "S001"
    assert body["events"] == {"last_seq": 3, "acknowledged_seq": 0, "pending": 3}
    assert body["sync"]["last_success_at"] is None
    assert body["print_queue"]["pending"] == 2


async def test_sales_summary_counts_and_totals(agent: Agent) -> None:
    client, _ = agent
    totals = []
    for lines in ([{"sku": "1001"}], [{"sku": "3001", "quantity": 2}]):
        status, sale = await post_sale(client, sale_request(*lines))
        assert status == 201
        totals.append(sale)
    day = totals[0]["business_date"]
    resp = await client.get("/api/v1/sales/summary", headers=terminal())
    summary = await resp.json()
    assert resp.status == 200
    # 1.29 + 0.09 tax = 1.38; 2 x 8.99 = 17.98 + 3.42 tax = 21.40
    assert summary == {"store_id": "S001", "days": [
        {"business_date": day, "count": 2, "total_minor": 138 + 2140, "tax_minor": 9 + 342}]}
    resp = await client.get(f"/api/v1/sales/summary?business_date={day}", headers=terminal())
    assert (await resp.json())["days"][0]["count"] == 2
    resp = await client.get("/api/v1/sales/summary?business_date=1999-01-01",
                            headers=terminal())
    assert (await resp.json())["days"] == []
    resp = await client.get("/api/v1/sales/summary?business_date=24.11.2026",
                            headers=terminal())
    problem = await assert_problem(resp, 400, "YYYY-MM-DD")
    assert problem["field"] == "business_date"


# -- the ledger itself ------------------------------------------------------------------------

def _stored_events(path: Path, store_id: str) -> list[StoreEvent]:
    rows = ledger_query(path, "SELECT seq, event_id, kind, recorded_at, business_date, payload, "
                              "hash FROM events ORDER BY seq")
    return [StoreEvent(store_id=store_id, seq=r[0], event_id=r[1], kind=r[2], recorded_at=r[3],
                       business_date=r[4], payload=json.loads(r[5]), hash=r[6]) for r in rows]


async def test_the_event_log_is_append_only_and_hash_chained(agent: Agent) -> None:
    client, settings = agent
    for _ in range(3):
        status, _ = await post_sale(client, sale_request({"sku": "2001"}))
        assert status == 201
    path = settings.ledger.path
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET payload = '{}' WHERE seq = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events WHERE seq = 4")
        conn.commit()
    finally:
        conn.close()
    events = _stored_events(path, "S001")
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert first_broken_link(GENESIS_HASH, events) is None
    # The check has teeth: altering one fact breaks the chain at that event.
    tampered = list(events)
    tampered[2] = dataclasses.replace(events[2], payload={**events[2].payload, "total": 1})
    assert first_broken_link(GENESIS_HASH, tampered) == 3


async def test_receipt_numbering_survives_a_restart(settings: AgentSettings,
                                                    aiohttp_client: Any) -> None:
    first = await aiohttp_client(create_app(settings))
    await open_drawer(first)
    seen = []
    for _ in range(2):
        status, sale = await post_sale(first, sale_request())
        assert status == 201
        seen.append(sale["receipt_number"])
    kept = sale_request(sale_id=new_id())
    status, kept_answer = await post_sale(first, kept)
    assert status == 201
    await first.close()

    second = await aiohttp_client(create_app(settings))
    status, again = await post_sale(second, kept)  # the retry after a restart replays
    assert (status, again) == (200, kept_answer)
    status, sale = await post_sale(second, sale_request())
    assert status == 201, sale
    seen += [kept_answer["receipt_number"], sale["receipt_number"]]
    assert seen == ["T1-000001", "T1-000002", "T1-000003", "T1-000004"]
    events = _stored_events(settings.ledger.path, "S001")
    assert [e.seq for e in events] == list(range(1, 6))
    assert first_broken_link(GENESIS_HASH, events) is None
