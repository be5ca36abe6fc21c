"""Builders for agent integration tests: a ready ledger (catalog, employees), an app client,
and small request builders that read like the shop floor."""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from config import AgentSettings
from store_agent.catalog import import_catalog_csv
from store_agent.clock import SystemClock
from store_agent.employees import import_employees_csv
from store_agent.ledger import Ledger, create_ledger, open_ledger
from store_agent.sync_client import SyncResult, push_pending
from tests.conftest import CATALOG_CSV, TERMINAL_TOKENS

EMPLOYEES_CSV = "employee_id,name,role,pin\nE100,Ann,cashier,1111\nE101,Bob,cashier,2222\n" \
                "M1,Max,manager,9999\n"
MANAGER = {"employee_id": "M1", "pin": "9999"}
SCALE_ITEMS = "9001,Cheese by weight,12.90,7,2512345\n9002,Deli salad,0.00,7,2054321\n"


def prepared_settings(settings: AgentSettings, **store_changes: Any) -> AgentSettings:
    """Create the ledger with catalog and employees; apply ``store`` setting changes."""
    if store_changes:
        settings = dataclasses.replace(settings, store=dataclasses.replace(settings.store,
                                                                           **store_changes))
    create_ledger(settings.ledger.path, settings.store.id, "2026-11-24T00:00:00Z")
    folder = settings.ledger.path.parent
    (folder / "catalog.csv").write_text(CATALOG_CSV + SCALE_ITEMS, encoding="utf-8")
    (folder / "employees.csv").write_text(EMPLOYEES_CSV, encoding="utf-8")
    db = open_ledger(settings.ledger.path, settings.store.id)
    import_catalog_csv(db, folder / "catalog.csv", 2)
    import_employees_csv(db, folder / "employees.csv")
    db.close()
    return settings


async def push_store(settings: AgentSettings) -> SyncResult:
    """Push what the store's ledger holds to head office, as ``agent sync`` does."""
    ledger = Ledger(settings.ledger.path, settings.store.id)
    await ledger.open()
    try:
        return await push_pending(ledger, settings, SystemClock())
    finally:
        await ledger.close()


def auth(terminal: str = "T1") -> dict[str, str]:
    return {"Authorization": f"Bearer {TERMINAL_TOKENS[terminal]}"}


def new_id() -> str:
    return str(uuid.uuid4())


def sale(*lines: dict[str, Any], tenders: list[dict[str, Any]] | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"sale_id": new_id(), "cashier": "E100", "lines": list(lines),
            "tenders": tenders or [{"type": "cash", "amount": "100.00"}], **extra}


async def call(client: TestClient, method: str, path: str, body: Any = None,
               terminal: str = "T1") -> tuple[int, Any]:
    resp = await client.request(method, path, json=body, headers=auth(terminal))
    return resp.status, await resp.json()


async def open_till(client: TestClient, terminal: str = "T1", float_: str = "100.00") -> str:
    session_id = f"session-{terminal}-{new_id()[:8]}"
    status, body = await call(client, "POST", "/api/v1/cash-sessions",
                              {"session_id": session_id, "employee": "E100", "float": float_},
                              terminal)
    assert status == 201, body
    return session_id


def ledger_rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
