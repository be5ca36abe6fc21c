"""Head-office-owned data and the change outbox: every catalog or employee change is written
with a ``changes`` row in the same transaction, so stores pull exactly what changed, in order,
whenever they come back online."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import audit
from server.errors import UnknownStore
from server.principal import OPERATOR, Principal
from server.storage import Storage
from server.storage.tables import (
    catalog_prices,
    catalog_products,
    changes,
    employees,
    stores,
    tax_rates,
)
from sync import Change
from sync.pins import hash_pin, pin_matches

ALL_STORES = "*"


async def publish(conn: AsyncConnection, scope: str, kind: str, key: str,
                  payload: dict[str, Any]) -> int:
    cursor = (await conn.execute(changes.insert().values(
        scope=scope, kind=kind, key=key, payload=payload, created_at=datetime.now(UTC))
        .returning(changes.c.cursor))).scalar_one()
    return int(cursor)


async def _replace(conn: AsyncConnection, table: sa.Table, key: str, value: str,
                   values: dict[str, Any]) -> Any:
    """Write the row whose ``key`` column is ``value`` (insert or update); return the row it
    replaced, or None when it is new (the audit log's "before")."""
    column = table.c[key]
    old = (await conn.execute(sa.select(table).where(column == value))).first()
    if old is None:
        await conn.execute(table.insert().values({key: value, **values}))
    else:
        await conn.execute(table.update().where(column == value).values(**values))
    return old


def product_doc(row: Any) -> dict[str, Any]:
    """A product row as the audit log and the API's internals see it (money in minor units)."""
    return {"sku": row.sku, "name": row.name, "price": int(row.price_minor),
            "tax_rate": row.tax_rate, "barcodes": list(row.barcodes), "active": row.active,
            "cost": row.cost_minor, "reorder_level_milli": row.reorder_level_milli}


def employee_doc(row: Any) -> dict[str, Any]:
    """An employee without the PIN digest."""
    return {"employee_id": row.employee_id, "name": row.name, "role": row.role,
            "active": row.active}


async def upsert_product(storage: Storage, sku: str, name: str, price_minor: int,
                         tax_rate: str, barcodes: list[str], active: bool,
                         tax_code: str | None = None, *, actor: Principal = OPERATOR,
                         cost_minor: int | None = None,
                         reorder_level_milli: int | None = None) -> int:
    """Create or replace a product (cost and reorder level are head office's own: they are
    not sent to the stores)."""
    values = {"name": name, "price_minor": price_minor, "tax_rate": tax_rate,
              "barcodes": barcodes, "active": active, "updated_at": datetime.now(UTC),
              "cost_minor": cost_minor, "reorder_level_milli": reorder_level_milli}
    async with storage.write() as conn:
        old = await _replace(conn, catalog_products, "sku", sku, values)
        after = {"sku": sku, "name": name, "price": price_minor, "tax_rate": tax_rate,
                 "barcodes": barcodes, "active": active, "cost": cost_minor,
                 "reorder_level_milli": reorder_level_milli}
        await audit.record(conn, actor, "product.put", f"product:{sku}",
                           None if old is None else product_doc(old), after)
        return await publish(conn, ALL_STORES, "product", sku, {
            "sku": sku, "name": name, "price": price_minor, "tax_rate": tax_rate,
            "tax_code": tax_code, "barcodes": barcodes, "active": active})


async def schedule_price(storage: Storage, sku: str, price_minor: int, effective_at: datetime,
                         store_id: str | None, *, actor: Principal = OPERATOR) -> int:
    """A price from ``effective_at`` on, for every store or (an override) for one."""
    at = effective_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    async with storage.write() as conn:
        if not (await conn.execute(sa.select(catalog_products.c.sku).where(
                catalog_products.c.sku == sku))).first():
            raise LookupError(f"no product {sku!r} in the catalog")
        if store_id is not None and not (await conn.execute(sa.select(stores.c.store_id).where(
                stores.c.store_id == store_id))).first():
            raise UnknownStore(store_id)
        await conn.execute(catalog_prices.insert().values(
            sku=sku, store_id=store_id, effective_at=at, price_minor=price_minor))
        await audit.record(conn, actor, "price.schedule", f"product:{sku}", None,
                           {"sku": sku, "store_id": store_id, "effective_at": at,
                            "price": price_minor})
        return await publish(conn, store_id or ALL_STORES, "price", sku,
                             {"sku": sku, "effective_at": at, "price": price_minor})


async def upsert_tax_rate(storage: Storage, code: str, rate: str, name: str, *,
                          actor: Principal = OPERATOR) -> int:
    """A tax rate by code; products that name the code are taxed at it in every store."""
    now = datetime.now(UTC)
    async with storage.write() as conn:
        old = await _replace(conn, tax_rates, "code", code,
                             {"rate": rate, "name": name, "updated_at": now})
        await audit.record(conn, actor, "tax_rate.put", f"tax_rate:{code}",
                           None if old is None else {"code": code, "rate": old.rate,
                                                     "name": old.name},
                           {"code": code, "rate": rate, "name": name})
        return await publish(conn, ALL_STORES, "tax_rate", code,
                             {"code": code, "rate": rate, "name": name})


async def upsert_employee(storage: Storage, employee_id: str, name: str, role: str, pin: str,
                          active: bool, *, actor: Principal = OPERATOR) -> int:
    """Employees reach the stores with their PIN as a digest only; the audit log says whether
    the PIN changed, never what it is."""
    pin_hash, now = hash_pin(pin), datetime.now(UTC)
    values = {"name": name, "role": role, "pin_hash": pin_hash, "active": active,
              "updated_at": now}
    async with storage.write() as conn:
        old = await _replace(conn, employees, "employee_id", employee_id, values)
        after = {"employee_id": employee_id, "name": name, "role": role, "active": active,
                 "pin_changed": old is None or not pin_matches(pin, old.pin_hash)}
        await audit.record(conn, actor, "employee.put", f"employee:{employee_id}",
                           None if old is None else employee_doc(old), after)
        return await publish(conn, ALL_STORES, "employee", employee_id, {
            "employee_id": employee_id, "name": name, "role": role, "pin_hash": pin_hash,
            "active": active})


async def changes_for(storage: Storage, store_id: str, after: int,
                      limit: int) -> tuple[list[Change], bool]:
    """Changes in a store's scope after ``after``, at most ``limit``, and whether more wait."""
    async with storage.read() as conn:
        rows = (await conn.execute(
            sa.select(changes.c.cursor, changes.c.kind, changes.c.key, changes.c.payload)
            .where(changes.c.cursor > after, changes.c.scope.in_((ALL_STORES, store_id)))
            .order_by(changes.c.cursor).limit(limit + 1))).all()
    page = [Change(cursor=int(r.cursor), kind=r.kind, key=r.key, payload=r.payload)
            for r in rows[:limit]]
    return page, len(rows) > limit
