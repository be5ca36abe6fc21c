"""Head-office API: a store's stock on hand (valued at standard cost) and the movement history
of one SKU, both mirrored from the store's own events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem
from server import keys
from server.api.params import cursor_param, encode_cursor, flag_param, limit_param, money_text
from server.api.reports import value_at_cost
from server.roles import Permission, requires
from server.storage.tables import catalog_products, stock_levels, stock_movements, stores
from sync.quantities import format_milli

routes = web.RouteTableDef()


async def _known_store(conn: Any, store_id: str) -> None:
    if (await conn.execute(sa.select(stores.c.store_id).where(stores.c.store_id == store_id))
            ).first() is None:
        raise Problem(404, f"no store {store_id!r} is enrolled")


@routes.get("/api/v1/stores/{store_id}/inventory")
@requires(Permission.INVENTORY_READ)
async def store_inventory(request: web.Request) -> web.Response:
    """Stock on hand per SKU (``low_only=true``: at or below the reorder level), by SKU."""
    store_id = request.match_info["store_id"]
    limit = limit_param(request)
    low_only = flag_param(request, "low_only") or False
    query = (sa.select(stock_levels.c.sku, stock_levels.c.on_hand_milli,
                       catalog_products.c.name, catalog_products.c.cost_minor,
                       catalog_products.c.reorder_level_milli)
             .select_from(stock_levels.outerjoin(
                 catalog_products, catalog_products.c.sku == stock_levels.c.sku))
             .where(stock_levels.c.store_id == store_id,
                    stock_levels.c.sku > request.query.get("after", ""))
             .order_by(stock_levels.c.sku).limit(limit + 1))
    if low_only:
        query = query.where(catalog_products.c.reorder_level_milli.is_not(None),
                            stock_levels.c.on_hand_milli <= catalog_products.c.reorder_level_milli)
    async with request.app[keys.STORAGE].read() as conn:
        await _known_store(conn, store_id)
        rows = (await conn.execute(query)).all()
    page = rows[:limit]
    items = []
    for r in page:
        value = value_at_cost(int(r.on_hand_milli), r.cost_minor)
        items.append({
            "sku": r.sku, "name": r.name, "on_hand": format_milli(int(r.on_hand_milli)),
            "reorder_level": None if r.reorder_level_milli is None
            else format_milli(int(r.reorder_level_milli)),
            "low": r.reorder_level_milli is not None and
            r.on_hand_milli <= r.reorder_level_milli,
            "unit_cost": None if r.cost_minor is None else money_text(request, r.cost_minor),
            "value": None if value is None else money_text(request, value)})
    return web.json_response({"store_id": store_id, "items": items,
                              "next_after": page[-1].sku if len(rows) > limit else None})


@routes.get("/api/v1/stores/{store_id}/inventory/{sku}/movements")
@requires(Permission.INVENTORY_READ)
async def sku_movements(request: web.Request) -> web.Response:
    """Every stock movement of one SKU in one store, oldest first, with the running balance."""
    store_id, sku = request.match_info["store_id"], request.match_info["sku"]
    limit, after = limit_param(request), cursor_param(request)
    async with request.app[keys.STORAGE].read() as conn:
        await _known_store(conn, store_id)
        balance = (await conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(stock_movements.c.delta_milli), 0))
            .where(stock_movements.c.store_id == store_id, stock_movements.c.sku == sku,
                   stock_movements.c.id <= after))).scalar_one()
        rows = (await conn.execute(
            sa.select(stock_movements).where(stock_movements.c.store_id == store_id,
                                             stock_movements.c.sku == sku,
                                             stock_movements.c.id > after)
            .order_by(stock_movements.c.id).limit(limit + 1))).all()
    page = rows[:limit]
    items = []
    running = int(balance)
    for r in page:
        running += int(r.delta_milli)
        items.append({"seq": r.seq, "kind": r.kind, "reference": r.reference,
                      "business_date": r.business_date.isoformat(),
                      "delta": format_milli(int(r.delta_milli)),
                      "on_hand_after": format_milli(running)})
    return web.json_response({"store_id": store_id, "sku": sku, "items": items,
                              "next_cursor": encode_cursor(page[-1].id)
                              if len(rows) > limit else None})
