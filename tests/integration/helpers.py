"""Shared builders for the integration tests of the POS API, push, the sync client and the
migrations: a ready agent ledger, a head office with enrolled stores, properly hash-chained
store events with realistic payloads, and checks of problem+json answers."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from config import AgentSettings, ServerSettings
from server.admin import enroll_store, init_database
from server.storage import Storage
from server.storage.tables import sales, store_events
from store_agent.catalog import import_catalog_csv
from store_agent.ledger import create_ledger, open_ledger
from sync import CONTENT_TYPE, PUSH_PATH, PushBatch, encode_push
from sync.events import GENESIS_HASH, StoreEvent, canonical, canonical_event_bytes, chain_hash
from tests.conftest import TERMINAL_TOKENS

PROBLEM = "application/problem+json"


# -- problem+json -----------------------------------------------------------------------------

async def assert_problem(resp: ClientResponse, status: int, *words: str) -> dict[str, Any]:
    """The answer is a problem+json document with ``status`` whose detail names ``words``."""
    text = await resp.text()
    assert resp.status == status, text
    assert resp.content_type == PROBLEM, (resp.content_type, text)
    problem = await resp.json(content_type=PROBLEM)
    assert problem["status"] == status, problem
    assert problem["title"], problem
    for word in words:
        assert word in problem["detail"], (word, problem)
    return problem


# -- the store agent -------------------------------------------------------------------------

def ready_ledger(settings: AgentSettings, catalog_csv: Path) -> AgentSettings:
    """Create the agent's ledger and import the test catalog (no employees: any cashier id)."""
    create_ledger(settings.ledger.path, settings.store.id, "2026-11-24T00:00:00Z")
    db = open_ledger(settings.ledger.path, settings.store.id)
    try:
        import_catalog_csv(db, catalog_csv, 2)
    finally:
        db.close()
    return settings


def terminal(terminal_id: str = "T1") -> dict[str, str]:
    return {"Authorization": f"Bearer {TERMINAL_TOKENS[terminal_id]}"}


def new_id() -> str:
    return str(uuid.uuid4())


def sale_request(*lines: dict[str, Any], tenders: list[dict[str, Any]] | None = None,
                 sale_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"sale_id": sale_id or new_id(), "cashier": "E100",
            "lines": list(lines) or [{"sku": "1001"}],
            "tenders": tenders or [{"type": "cash", "amount": "50.00"}], **extra}


async def open_drawer(agent: TestClient, terminal_id: str = "T1") -> str:
    session_id = f"session-{terminal_id}-{new_id()[:8]}"
    resp = await agent.post("/api/v1/cash-sessions", headers=terminal(terminal_id), json={
        "session_id": session_id, "employee": "E100", "float": "100.00"})
    assert resp.status == 201, await resp.text()
    return session_id


def ledger_query(path: Path, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, tuple(params)).fetchall()
    finally:
        conn.close()


def ledger_events(path: Path) -> int:
    return int(ledger_query(path, "SELECT COUNT(*) FROM events")[0][0])


# -- head office ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HeadOffice:
    admin_token: str
    store_tokens: dict[str, str]

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def store(self, store_id: str = "S001") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.store_tokens[store_id]}"}


async def set_up_head_office(settings: ServerSettings,
                             store_ids: Iterable[str] = ("S001",)) -> HeadOffice:
    """Migrate the central database, take the first admin token and enroll the stores."""
    storage = Storage(settings.database.url)
    try:
        init = await init_database(storage)
        assert init.admin_token is not None
        tokens = {store_id: await enroll_store(storage, store_id, f"Store {store_id}",
                                               "Europe/Berlin")
                  for store_id in store_ids}
    finally:
        await storage.dispose()
    return HeadOffice(admin_token=init.admin_token, store_tokens=tokens)


async def central_counts(url: str, store_id: str = "S001") -> tuple[int, int]:
    """(raw store events, projected sales) head office holds for ``store_id``."""
    storage = Storage(url)
    try:
        async with storage.read() as conn:
            events = (await conn.execute(sa.select(sa.func.count()).select_from(store_events)
                                         .where(store_events.c.store_id == store_id))
                      ).scalar_one()
            sold = (await conn.execute(sa.select(sa.func.count()).select_from(sales)
                                       .where(sales.c.store_id == store_id))).scalar_one()
    finally:
        await storage.dispose()
    return int(events), int(sold)


async def high_water(server: TestClient, office: HeadOffice, store_id: str = "S001") -> int:
    resp = await server.get(f"/api/v1/stores/{store_id}", headers=office.admin)
    assert resp.status == 200, await resp.text()
    return int((await resp.json())["sync"]["high_water_seq"])


# -- store events as an agent records them ----------------------------------------------------

def sale_payload(receipt_no: int, *, sale_id: str | None = None, terminal_id: str = "T1",
                 cashier: str = "E100", quantity: int = 2) -> dict[str, Any]:
    """A ``sale.completed`` payload shaped like the one store_agent/sales.py records: milk
    (7 %) and dish soap (19 %), paid cash with change."""
    milk = 129 * quantity
    soap = 199
    tax7, tax19 = round(milk * 7 / 100), round(soap * 19 / 100)
    subtotal = milk + soap
    total = subtotal + tax7 + tax19
    return {
        "sale_id": sale_id or new_id(), "terminal_id": terminal_id, "receipt_no": receipt_no,
        "cashier": cashier, "session_id": "session-0001", "drawer_id": terminal_id,
        "currency": "USD", "store_name": "", "prices_include_tax": False,
        "request_digest": "0" * 64,
        "lines": [
            {"line_no": 1, "sku": "1001", "name": "Whole milk 1 l", "quantity": str(quantity),
             "unit_price": 129, "list_price": 129, "gross": milk, "discount": 0,
             "discount_reason": "", "override_reason": "", "price_source": "catalog",
             "amount": milk, "tax_rate": "7"},
            {"line_no": 2, "sku": "2001", "name": "Dish soap", "quantity": "1",
             "unit_price": soap, "list_price": soap, "gross": soap, "discount": 0,
             "discount_reason": "", "override_reason": "", "price_source": "catalog",
             "amount": soap, "tax_rate": "19"}],
        "taxes": [{"rate": "7", "taxable": milk, "tax": tax7},
                  {"rate": "19", "taxable": soap, "tax": tax19}],
        "subtotal": subtotal, "discount": 0, "tax": tax7 + tax19, "total": total,
        "tenders": [{"type": "cash", "amount": 5000, "reference": "", "approval_code": ""}],
        "change_due": 5000 - total, "approvals": [],
    }


def session_payload(session_id: str = "session-0001") -> dict[str, Any]:
    return {"session_id": session_id, "drawer_id": "T1", "terminal_id": "T1",
            "employee_id": "E100", "float": 10000, "currency": "USD"}


@dataclass(frozen=True, slots=True)
class Fact:
    """One event to chain: its kind, payload, business date and (if not made up) when the
    store recorded it."""

    kind: str
    payload: dict[str, Any]
    business_date: str = "2026-11-24"
    recorded_at: str | None = None  # ISO 8601 with Z


def chained(store_id: str, facts: Iterable[Fact], *, first_seq: int = 1,
            previous_hash: str = GENESIS_HASH) -> list[StoreEvent]:
    """Events hash-chained as a ledger chains them, starting after ``previous_hash``."""
    out = []
    for offset, fact in enumerate(facts):
        seq = first_seq + offset
        event_id = f"evt-{store_id}-{seq}-{uuid.uuid4().hex[:12]}"
        recorded_at = fact.recorded_at or f"{fact.business_date}T10:{offset % 60:02d}:00.000000Z"
        payload = canonical(fact.payload)
        digest = chain_hash(previous_hash, canonical_event_bytes(
            store_id, seq, event_id, fact.kind, recorded_at, fact.business_date, payload))
        out.append(StoreEvent(store_id=store_id, seq=seq, event_id=event_id, kind=fact.kind,
                              recorded_at=recorded_at, business_date=fact.business_date,
                              payload=payload, hash=digest))
        previous_hash = digest
    return out


def sales_facts(count: int, *, first_receipt: int = 1, business_date: str = "2026-11-24",
                terminal_id: str = "T1") -> list[Fact]:
    return [Fact("sale.completed", sale_payload(first_receipt + n, terminal_id=terminal_id),
                 business_date) for n in range(count)]


def batch(store_id: str, events: Iterable[StoreEvent]) -> bytes:
    return encode_push(PushBatch(store_id=store_id, events=tuple(events)))


async def push(server: TestClient, body: bytes, headers: dict[str, str] | None,
               content_type: str = CONTENT_TYPE) -> ClientResponse:
    return await server.post(PUSH_PATH, data=body, headers={
        **(headers or {}), "Content-Type": content_type})


async def bean_check(path: Path) -> None:
    """beancount's own checker accepts the ledger at ``path`` (beancount: the test extra)."""
    checker = shutil.which("bean-check") or str(Path(sys.executable).parent / "bean-check")
    process = await asyncio.create_subprocess_exec(
        checker, str(path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
