"""Push at head office, on SQLite and on a real PostgreSQL: msgpack batches of hash-chained
events are applied once, in order, whole or not at all; every refusal is problem+json and
changes nothing. Then the head-office API that shows what arrived."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack
import pytest
from aiohttp.test_utils import TestClient

from config import ServerSettings
from server import create_app
from server.storage import head_revision
from sync import CONTENT_TYPE, decode_push_ack
from sync.events import canonical_event_bytes, chain_hash
from tests.integration.helpers import (
    Fact,
    HeadOffice,
    assert_problem,
    batch,
    central_counts,
    chained,
    high_water,
    push,
    sale_payload,
    sales_facts,
    session_payload,
    set_up_head_office,
)

Central = tuple[TestClient, HeadOffice, ServerSettings]


@pytest.fixture
async def central(server_settings: ServerSettings, aiohttp_client: Any) -> Central:
    office = await set_up_head_office(server_settings, ("S001", "S002"))
    return await aiohttp_client(create_app(server_settings)), office, server_settings


def _day_facts(sales: int = 2) -> list[Fact]:
    return [Fact("cash.session_opened", session_payload()), *sales_facts(sales)]


async def _ack(resp: Any) -> Any:
    body = await resp.read()
    assert resp.status == 200, body
    assert resp.content_type == CONTENT_TYPE
    return decode_push_ack(body)


async def _nothing_changed(central: Central, high: int, events: int, sales: int,
                           store_id: str = "S001") -> None:
    server, office, settings = central
    assert await high_water(server, office, store_id) == high
    assert await central_counts(settings.database.url, store_id) == (events, sales)


# -- applying batches -------------------------------------------------------------------------

async def test_a_good_batch_is_applied_and_acknowledged(central: Central) -> None:
    server, office, _ = central
    events = chained("S001", _day_facts(2))
    ack = await _ack(await push(server, batch("S001", events), office.store()))
    assert (ack.high_water, ack.applied, ack.last_hash) == (3, 3, events[-1].hash)
    await _nothing_changed(central, 3, 3, 2)
    resp = await server.get(f"/api/v1/sales/{events[1].payload['sale_id']}",
                            headers=office.admin)
    sale = await resp.json()
    assert resp.status == 200, sale
    payload = events[1].payload
    assert (sale["store_id"], sale["seq"], sale["receipt_no"], sale["terminal_id"]) == \
        ("S001", 2, 1, "T1")
    assert sale["total"] == f"{payload['total'] // 100}.{payload['total'] % 100:02d}"
    assert [(ln["sku"], ln["quantity"]) for ln in sale["lines"]] == [("1001", "2"),
                                                                     ("2001", "1")]
    assert sale["tenders"] == [{"type": "cash", "amount": "50.00", "reference": ""}]


async def test_the_same_batch_again_applies_nothing(central: Central) -> None:
    server, office, _ = central
    body = batch("S001", chained("S001", _day_facts(2)))
    first = await _ack(await push(server, body, office.store()))
    again = await _ack(await push(server, body, office.store()))
    assert (again.high_water, again.applied, again.last_hash) == \
        (first.high_water, 0, first.last_hash)
    await _nothing_changed(central, 3, 3, 2)
    resp = await server.get("/api/v1/sales", headers=office.admin)
    assert len((await resp.json())["items"]) == 2


async def test_a_batch_overlapping_old_and_new_applies_only_the_new(central: Central) -> None:
    server, office, _ = central
    events = chained("S001", _day_facts(4))
    ack = await _ack(await push(server, batch("S001", events[:2]), office.store()))
    assert (ack.high_water, ack.applied) == (2, 2)
    ack = await _ack(await push(server, batch("S001", events[1:]), office.store()))
    assert (ack.high_water, ack.applied, ack.last_hash) == (5, 3, events[-1].hash)
    await _nothing_changed(central, 5, 5, 4)


async def test_a_gap_is_refused_with_the_expected_seq(central: Central) -> None:
    server, office, _ = central
    events = chained("S001", _day_facts(3))
    await _ack(await push(server, batch("S001", events[:1]), office.store()))
    resp = await push(server, batch("S001", events[2:]), office.store())
    problem = await assert_problem(resp, 409, "starts at seq 3", "expects seq 2")
    assert problem["expected_seq"] == 2
    await _nothing_changed(central, 1, 1, 0)


async def test_a_broken_chain_refuses_the_whole_batch(central: Central) -> None:
    server, office, _ = central
    events = chained("S001", _day_facts(3))
    tampered = dataclasses.replace(events[2], payload={**events[2].payload, "total": 1})
    resp = await push(server, batch("S001", [*events[:2], tampered, *events[3:]]),
                      office.store())
    problem = await assert_problem(resp, 409, "hash chain broken at seq 3")
    assert problem["seq"] == 3
    await _nothing_changed(central, 0, 0, 0)  # not even seqs 1 and 2, which were sound
    ack = await _ack(await push(server, batch("S001", events), office.store()))
    assert (ack.high_water, ack.applied) == (4, 4)


async def test_a_chain_that_does_not_follow_head_office_is_refused(central: Central) -> None:
    server, office, _ = central
    events = chained("S001", _day_facts(3))
    await _ack(await push(server, batch("S001", events[:2]), office.store()))
    # Well chained in itself, but from a different seq 2: its seq 3 cannot follow.
    other = chained("S001", _day_facts(3))
    resp = await push(server, batch("S001", other[2:]), office.store())
    problem = await assert_problem(resp, 409, "hash chain broken at seq 3")
    assert problem["seq"] == 3
    await _nothing_changed(central, 2, 2, 1)


async def test_a_replay_of_an_old_seq_with_other_content_is_refused(central: Central) -> None:
    server, office, _ = central
    events = chained("S001", _day_facts(2))
    await _ack(await push(server, batch("S001", events), office.store()))
    forged = chained("S001", [Fact("sale.completed", sale_payload(1, quantity=5))],
                     first_seq=2, previous_hash=events[0].hash)
    resp = await push(server, batch("S001", forged), office.store())
    problem = await assert_problem(resp, 409, "seq 2", "differs")
    assert problem["seq"] == 2
    # ... also when it comes with new events after it: nothing of the batch is applied.
    more = chained("S001", sales_facts(1, first_receipt=3), first_seq=4,
                   previous_hash=events[-1].hash)
    resp = await push(server, batch("S001", [*forged, events[2], *more]), office.store())
    await assert_problem(resp, 409, "seq 2")
    await _nothing_changed(central, 3, 3, 2)


# -- who may push -----------------------------------------------------------------------------

async def test_a_missing_or_wrong_sync_token_is_refused(central: Central) -> None:
    server, office, _ = central
    body = batch("S001", chained("S001", _day_facts(1)))
    await assert_problem(await push(server, body, None), 401, "missing store sync token")
    await assert_problem(await push(server, body, {"Authorization": "Bearer bos_" + "n" * 43}),
                         401, "not recognised")
    # The admin API token is not a sync token either.
    await assert_problem(await push(server, body, office.admin), 401, "not recognised")
    await _nothing_changed(central, 0, 0, 0)


async def test_a_store_cannot_push_another_stores_events(central: Central) -> None:
    server, office, _ = central
    body = batch("S002", chained("S002", _day_facts(1)))
    resp = await push(server, body, office.store("S001"))
    await assert_problem(resp, 403, "belongs to store S001", "store S002")
    await _nothing_changed(central, 0, 0, 0, "S002")
    await _nothing_changed(central, 0, 0, 0, "S001")
    ack = await _ack(await push(server, body, office.store("S002")))
    assert ack.applied == 2


# -- malformed batches ------------------------------------------------------------------------

async def test_malformed_batches_are_refused_before_anything_is_applied(
        central: Central) -> None:
    server, office, _ = central
    good = chained("S001", _day_facts(1))
    message = msgpack.unpackb(batch("S001", good), raw=False)
    unknown_kind = chained("S001", [Fact("sale.teleported", {"sale_id": "x"})])
    no_lines = {k: v for k, v in sale_payload(1).items() if k != "lines"}
    cases: list[tuple[bytes, str, int, tuple[str, ...], str | None]] = [
        (batch("S001", good), "application/json", 415, ("application/x-msgpack",), None),
        (b"\xc1 this is not msgpack", CONTENT_TYPE, 400, ("not a valid msgpack",), "body"),
        (b"", CONTENT_TYPE, 400, ("malformed",), "body"),
        (msgpack.packb([1, 2, 3]), CONTENT_TYPE, 400, ("msgpack map",), "body"),
        (msgpack.packb({**message, "v": 99}), CONTENT_TYPE, 400, ("version 99",), "v"),
        (msgpack.packb({**message, "type": "pull"}), CONTENT_TYPE, 400, ("'push'",), "type"),
        (batch("S001", unknown_kind), CONTENT_TYPE, 400, ("unknown event kind",),
         "events[0].kind"),
        (batch("S001", chained("S001", [Fact("sale.completed", no_lines)])), CONTENT_TYPE,
         400, ("missing",), "events[0].payload.lines"),
        (batch("S001", [good[0], good[1], good[1]]), CONTENT_TYPE, 400, ("consecutive",),
         "events[2].seq"),
    ]
    for body, content_type, status, words, field in cases:
        resp = await push(server, body, office.store(), content_type)
        problem = await assert_problem(resp, status, *words)
        if field is not None:
            assert problem["field"] == field, problem
    await _nothing_changed(central, 0, 0, 0)


async def test_too_many_events_in_one_batch_is_refused(server_settings: ServerSettings,
                                                       aiohttp_client: Any) -> None:
    office = await set_up_head_office(server_settings)
    limited = dataclasses.replace(server_settings, sync=dataclasses.replace(
        server_settings.sync, max_batch_events=3))
    server = await aiohttp_client(create_app(limited))
    events = chained("S001", _day_facts(3))
    resp = await push(server, batch("S001", events), office.store())
    problem = await assert_problem(resp, 400, "4 events in one batch", "limit is 3")
    assert problem["field"] == "events"
    assert await central_counts(server_settings.database.url) == (0, 0)
    ack = await _ack(await push(server, batch("S001", events[:3]), office.store()))
    assert ack.high_water == 3


# -- authentic events head office cannot project ----------------------------------------------

async def test_a_sale_head_office_cannot_project_is_kept_raw_and_the_queue_moves(
        central: Central) -> None:
    server, office, settings = central
    twice = sale_payload(1)
    facts = [Fact("sale.completed", twice),
             Fact("sale.completed", {**sale_payload(2), "sale_id": twice["sale_id"]}),
             *sales_facts(1, first_receipt=3)]
    events = chained("S001", facts)
    ack = await _ack(await push(server, batch("S001", events), office.store()))
    assert (ack.high_water, ack.applied) == (3, 3)
    # All three raw events are held; the duplicate sale_id is not projected a second time,
    # and the sale after it still is.
    assert await central_counts(settings.database.url) == (3, 2)
    resp = await server.get("/api/v1/sales", headers=office.admin)
    assert sorted(s["seq"] for s in (await resp.json())["items"]) == [1, 3]
    nxt = chained("S001", sales_facts(1, first_receipt=4), first_seq=4,
                  previous_hash=events[-1].hash)
    ack = await _ack(await push(server, batch("S001", nxt), office.store()))
    assert (ack.high_water, ack.applied) == (4, 1)


async def test_a_value_too_long_for_head_office_is_refused_at_decode(
        central: Central) -> None:
    """The contract's limits match the central columns: a cashier id longer than head office
    can store is a 400 naming the field, never a half-applied batch or a blocked queue."""
    server, office, settings = central
    events = chained("S001", [Fact("sale.completed", sale_payload(1, cashier="C" * 40))])
    resp = await push(server, batch("S001", events), office.store())
    await assert_problem(resp, 400, "cashier")
    assert (await central_counts(settings.database.url))[0] == 0


async def test_a_malformed_business_date_is_a_400_not_a_500(central: Central) -> None:
    server, office, _ = central
    events = chained("S001", [Fact("sale.completed", sale_payload(1), "2026-13-45")])
    resp = await push(server, batch("S001", events), office.store())
    await assert_problem(resp, 400, "business_date")
    await _nothing_changed(central, 0, 0, 0)


# -- the head-office API ----------------------------------------------------------------------

async def test_head_office_api_needs_an_api_token(central: Central) -> None:
    server, office, _ = central
    await assert_problem(await server.get("/api/v1/stores"), 401, "missing API token")
    await assert_problem(await server.get("/api/v1/stores", headers={
        "Authorization": "Bearer boa_not-a-real-token"}), 401, "not recognised")
    await assert_problem(await server.get("/api/v1/sales", headers=office.store()), 401,
                         "not recognised")
    for path in ("/healthz", "/readyz"):
        resp = await server.get(path)
        assert resp.status == 200, await resp.text()
    resp = await server.get("/readyz")
    assert await resp.json() == {"status": "ready", "schema_revision": head_revision()}


async def test_stores_are_listed_with_their_high_water(central: Central) -> None:
    server, office, _ = central
    await _ack(await push(server, batch("S001", chained("S001", _day_facts(2))),
                          office.store()))
    resp = await server.get("/api/v1/stores", headers=office.admin)
    body = await resp.json()
    assert resp.status == 200
    listed = {s["store_id"]: s for s in body["items"]}
    assert sorted(listed) == ["S001", "S002"]
    assert listed["S001"]["sync"]["high_water_seq"] == 3
    assert listed["S001"]["sync"]["last_seen_at"] is not None
    assert listed["S002"]["sync"]["high_water_seq"] == 0
    assert listed["S002"]["sync"]["last_seen_at"] is None
    resp = await server.get("/api/v1/stores/S001", headers=office.admin)
    one = await resp.json()
    assert (one["store_id"], one["name"], one["revoked"]) == ("S001", "Store S001", False)
    assert one["enrolled_at"].endswith("+00:00")
    await assert_problem(await server.get("/api/v1/stores/NOPE", headers=office.admin), 404,
                         "'NOPE'")


async def test_sales_pages_walk_every_sale_exactly_once(central: Central) -> None:
    server, office, _ = central
    events = chained("S001", sales_facts(5))
    await _ack(await push(server, batch("S001", events), office.store()))
    other = chained("S002", sales_facts(2))
    await _ack(await push(server, batch("S002", other), office.store("S002")))
    seen: list[str] = []
    sizes = []
    url = "/api/v1/sales?limit=2"
    while True:
        resp = await server.get(url, headers=office.admin)
        page = await resp.json()
        assert resp.status == 200, page
        sizes.append(len(page["items"]))
        seen += [s["sale_id"] for s in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/sales?limit=2&cursor={page['next_cursor']}"
    assert sizes == [2, 2, 2, 1]
    assert sorted(seen) == sorted(e.payload["sale_id"] for e in [*events, *other])
    assert len(set(seen)) == len(seen)

    resp = await server.get("/api/v1/sales?store_id=S002&limit=1", headers=office.admin)
    page = await resp.json()
    assert [s["store_id"] for s in page["items"]] == ["S002"] and page["next_cursor"]
    resp = await server.get("/api/v1/sales?business_date=2026-11-24&limit=1000",
                            headers=office.admin)
    assert len((await resp.json())["items"]) == 7
    resp = await server.get("/api/v1/sales?business_date=2026-11-25", headers=office.admin)
    assert (await resp.json())["items"] == []


@pytest.mark.parametrize(("query", "field", "words"), [
    ("cursor=not-a-cursor", "cursor", "next_cursor"),
    ("cursor=eDo1", "cursor", "next_cursor"),  # base64 of "x:5"
    ("limit=0", "limit", "1 to 1000"),
    ("limit=1001", "limit", "1 to 1000"),
    ("limit=abc", "limit", "'abc'"),
    ("limit=-1", "limit", "1 to 1000"),
    ("business_date=2026-02-30", "business_date", "YYYY-MM-DD"),
    ("business_date=yesterday", "business_date", "YYYY-MM-DD"),
])
async def test_bad_sales_queries_are_400(central: Central, query: str, field: str,
                                         words: str) -> None:
    server, office, _ = central
    resp = await server.get(f"/api/v1/sales?{query}", headers=office.admin)
    problem = await assert_problem(resp, 400, words)
    assert problem["field"] == field


async def test_an_unknown_sale_is_404(central: Central) -> None:
    server, office, _ = central
    resp = await server.get("/api/v1/sales/no-such-sale-0001", headers=office.admin)
    await assert_problem(resp, 404, "no-such-sale-0001")


async def test_sales_by_store_report_totals_per_store_and_date(central: Central) -> None:
    server, office, _ = central
    s1 = chained("S001", [*sales_facts(2, business_date="2026-11-24"),
                          *sales_facts(1, first_receipt=3, business_date="2026-11-25")])
    s2 = chained("S002", sales_facts(3, business_date="2026-11-24"))
    await _ack(await push(server, batch("S001", s1), office.store("S001")))
    await _ack(await push(server, batch("S002", s2), office.store("S002")))
    one = s1[0].payload

    def row(store_id: str, day: str, count: int) -> dict[str, Any]:
        total, tax = one["total"] * count, one["tax"] * count
        return {"store_id": store_id, "business_date": day, "count": count,
                "total_minor": total, "tax_minor": tax,
                "total": f"{total // 100}.{total % 100:02d}",
                "tax": f"{tax // 100}.{tax % 100:02d}"}

    async def report(query: str = "") -> list[dict[str, Any]]:
        resp = await server.get(f"/api/v1/reports/sales-by-store{query}", headers=office.admin)
        assert resp.status == 200, await resp.text()
        keys = row("S001", "2026-11-24", 1).keys()
        return [{k: v for k, v in item.items() if k in keys}
                for item in (await resp.json())["items"]]

    assert await report() == [row("S001", "2026-11-24", 2), row("S001", "2026-11-25", 1),
                              row("S002", "2026-11-24", 3)]
    assert await report("?from=2026-11-25&to=2026-11-30") == [row("S001", "2026-11-25", 1)]
    # A late sale for a past day (a till that was offline) lands in that day's figures.
    late = chained("S002", sales_facts(1, first_receipt=4, business_date="2026-11-24"),
                   first_seq=4, previous_hash=s2[-1].hash)
    await _ack(await push(server, batch("S002", late), office.store("S002")))
    assert await report("?store_id=S002") == [row("S002", "2026-11-24", 4)]
    resp = await server.get("/api/v1/reports/sales-by-store?to=2026-11-23",
                            headers=office.admin)
    assert (await resp.json())["items"] == []
    resp = await server.get("/api/v1/reports/sales-by-store?from=nope", headers=office.admin)
    assert (await assert_problem(resp, 400, "YYYY-MM-DD"))["field"] == "from"


def test_the_chain_helper_matches_the_contract() -> None:
    """The events these tests push chain exactly as the contract says."""
    events = chained("S001", _day_facts(1))
    second = events[1]
    assert second.hash == chain_hash(events[0].hash, canonical_event_bytes(
        "S001", 2, second.event_id, second.kind, second.recorded_at, second.business_date,
        second.payload))


async def test_store_status_shows_backlog_and_clock_skew(server_settings: Any,
                                                         aiohttp_client: Any) -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from sync import PushBatch, encode_push

    office = await set_up_head_office(server_settings)
    server = await aiohttp_client(create_app(server_settings))
    events = chained("S001", sales_facts(5))
    # The store holds 5 events and sends 3; its clock runs 2 minutes fast.
    fast_clock = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    resp = await push(server, encode_push(PushBatch("S001", tuple(events[:3]), head_seq=5)),
                      {**office.store(), "Date": fast_clock})
    assert resp.status == 200, await resp.text()
    status = (await (await server.get("/api/v1/stores/S001", headers=office.admin)).json())[
        "sync"]
    assert (status["high_water_seq"], status["store_head_seq"], status["events_behind"]) == \
        (3, 5, 2)
    assert 118 <= status["clock_skew_seconds"] <= 122
    # Prometheus sees the same, per store, without a token.
    resp = await server.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    metrics = await resp.text()
    assert 'backoffice_store_events_behind{store_id="S001"} 2.0' in metrics
    assert 'backoffice_store_high_water_seq{store_id="S001"} 3.0' in metrics
    assert 'backoffice_events_ingested_total{store_id="S001"} 3.0' in metrics
    assert 'backoffice_store_sync_lag_seconds{store_id="S001"}' in metrics
    assert 'backoffice_http_requests_total{method="POST",route="/sync/v1/push",status="200"} ' \
        '1.0' in metrics
    # A head_seq below the batch's own events is a contract error; nothing is applied.
    resp = await push(server, encode_push(PushBatch("S001", tuple(events[3:]), head_seq=4)),
                      office.store())
    await assert_problem(resp, 400, "head_seq")
    assert await high_water(server, office) == 3
    # An agent that sends no Date and no head_seq keeps the last known skew.
    resp = await push(server, batch("S001", events[3:]), office.store())
    assert resp.status == 200
    status = (await (await server.get("/api/v1/stores/S001", headers=office.admin)).json())[
        "sync"]
    assert (status["high_water_seq"], status["events_behind"]) == (5, 0)
    assert 118 <= status["clock_skew_seconds"] <= 122
