"""The agent's side of pull: head office's changes (products, prices with effective times,
employees) page by page, each page applied in one transaction together with the new cursor —
so a page is either wholly in the store's catalog with its cursor, or not at all."""

from __future__ import annotations

import ssl
from functools import partial

import aiohttp
from sqlite_utils import Database

from config import AgentSettings
from store_agent.errors import HeadOfficeBusy, HeadOfficeUnreachable, SyncRefused, SyncRejected
from store_agent.ledger import Ledger, write_transaction
from store_agent.transfers import apply_transfer_order
from sync import CONTENT_TYPE, PULL_PATH, Change, ChangePage, DecodeError, decode_changes

PAGE = 500


async def pull_changes(ledger: Ledger, settings: AgentSettings, session: aiohttp.ClientSession,
                       ssl_context: ssl.SSLContext | None, at: str) -> int:
    """Apply every pending change; return how many were applied."""
    url = settings.head_office.url.rstrip("/") + PULL_PATH
    headers = {"Authorization": f"Bearer {settings.head_office.sync_token}",
               "Accept": CONTENT_TYPE}
    applied = 0
    while True:
        cursor = await ledger.run(_cursor)
        try:
            async with session.get(url, params={"after": str(cursor), "limit": str(PAGE)},
                                   headers=headers,
                                   ssl=ssl_context if ssl_context is not None else True) as resp:
                status, body = resp.status, await resp.read()
                retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HeadOfficeUnreachable(url, str(exc) or type(exc).__name__) from exc
        if status in (401, 403):
            raise SyncRefused(settings.store.id, status, body[:200].decode("utf-8", "replace"))
        if status in (502, 503, 504):  # busy or restarting: like unreachable, retry later
            raise HeadOfficeBusy(url, f"HTTP {status}: "
                                      f"{body[:200].decode('utf-8', 'replace')}", retry_after)
        if status != 200:
            raise SyncRejected(status, body[:200].decode("utf-8", "replace"))
        try:
            page = decode_changes(body)
        except DecodeError as exc:
            raise SyncRejected(status, f"unreadable changes from head office: {exc}") from exc
        await ledger.run(partial(apply_page, page=page, after=cursor, at=at))
        applied += len(page.changes)
        if not page.more:
            return applied


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header's delay in seconds (the delta-seconds form head office sends)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def apply_page(db: Database, *, page: ChangePage, after: int, at: str) -> None:
    with write_transaction(db):
        if _cursor(db) != after:  # another sync applied this page meanwhile
            return
        for change in page.changes:
            APPLY[change.kind](db, change)
        db.execute("UPDATE sync_state SET pull_cursor = ?, last_pull_at = ? WHERE id = 1",
                   [page.last_cursor, at])


def _cursor(db: Database) -> int:
    return int(db.execute("SELECT pull_cursor FROM sync_state WHERE id = 1").fetchone()[0])


def _product(db: Database, change: Change) -> None:
    p = change.payload
    db.execute("INSERT INTO products (sku, name, price_minor, tax_rate, tax_code) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT(sku) DO UPDATE SET name = excluded.name, "
               "price_minor = excluded.price_minor, tax_rate = excluded.tax_rate, "
               "tax_code = excluded.tax_code",
               [p["sku"], p["name"], p["price"], p["tax_rate"], p.get("tax_code")])
    db.execute("DELETE FROM barcodes WHERE sku = ?", [p["sku"]])
    codes = p["barcodes"] if p["active"] else []
    db.conn.executemany("INSERT INTO barcodes (barcode, sku) VALUES (?, ?) ON CONFLICT(barcode) "
                        "DO UPDATE SET sku = excluded.sku", [(c, p["sku"]) for c in codes])


def _price(db: Database, change: Change) -> None:
    p = change.payload
    db.execute("INSERT INTO prices (sku, effective_at, price_minor) VALUES (?, ?, ?) "
               "ON CONFLICT(sku, effective_at) DO UPDATE SET price_minor = excluded.price_minor",
               [p["sku"], p["effective_at"], p["price"]])


def _employee(db: Database, change: Change) -> None:
    p = change.payload
    db.execute("INSERT INTO employees (employee_id, name, role, pin_hash, active) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT(employee_id) DO UPDATE SET "
               "name = excluded.name, role = excluded.role, pin_hash = excluded.pin_hash, "
               "active = excluded.active",
               [p["employee_id"], p["name"], p["role"], p["pin_hash"], int(p["active"])])


def _tax_rate(db: Database, change: Change) -> None:
    p = change.payload
    db.execute("INSERT INTO tax_rates (code, rate, name) VALUES (?, ?, ?) ON CONFLICT(code) "
               "DO UPDATE SET rate = excluded.rate, name = excluded.name",
               [p["code"], p["rate"], p["name"]])


def _transfer(db: Database, change: Change) -> None:
    store_id = db.execute("SELECT value FROM ledger_meta WHERE key = 'store_id'").fetchone()[0]
    apply_transfer_order(db, change, str(store_id))


APPLY = {"product": _product, "price": _price, "employee": _employee, "tax_rate": _tax_rate,
         "transfer": _transfer}
