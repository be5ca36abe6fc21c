"""Head-office API: stores and their sync status."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem
from server import keys
from server.api.params import iso_utc
from server.storage.tables import reconciliation_items, store_digests, stores

routes = web.RouteTableDef()


def _store_json(row: Any, open_items: int, digest: Any = None) -> dict[str, Any]:
    return {"store_id": row.store_id, "name": row.name, "timezone": row.timezone,
            "enrolled_at": iso_utc(row.enrolled_at),
            "sync": {"high_water_seq": row.high_water, "last_hash": row.last_hash,
                     "last_seen_at": iso_utc(row.last_seen_at)},
            "nightly_reconciliation": None if digest is None else {
                "checked_at": iso_utc(digest.checked_at), "through_seq": digest.through_seq,
                "matches": digest.matches, "differences": digest.differences},
            "open_reconciliation_items": open_items,
            "revoked": row.revoked_at is not None}


async def _open_items(conn: Any) -> dict[str, int]:
    result = await conn.execute(
        sa.select(reconciliation_items.c.store_id, sa.func.count())
        .where(reconciliation_items.c.status == "open")
        .group_by(reconciliation_items.c.store_id))
    return {store_id: int(count) for store_id, count in result}


@routes.get("/api/v1/stores")
async def list_stores(request: web.Request) -> web.Response:
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(sa.select(stores).order_by(stores.c.store_id))).all()
        open_items = await _open_items(conn)
    return web.json_response({"items": [_store_json(r, open_items.get(r.store_id, 0))
                                        for r in rows]})


@routes.get("/api/v1/stores/{store_id}")
async def get_store(request: web.Request) -> web.Response:
    store_id = request.match_info["store_id"]
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(stores).where(stores.c.store_id == store_id))).first()
        open_items = await _open_items(conn)
        digest = (await conn.execute(sa.select(store_digests).where(
            store_digests.c.store_id == store_id))).first()
    if row is None:
        raise Problem(404, f"no store {store_id!r} is enrolled")
    return web.json_response(_store_json(row, open_items.get(store_id, 0), digest))
