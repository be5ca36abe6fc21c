"""Head-office API: reconciliation items — list, detail, resolve (with who and why)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem, read_json_object
from server import audit, keys
from server.api.params import cursor_param, encode_cursor, iso_utc, limit_param
from server.auth import PRINCIPAL
from server.roles import Permission, requires
from server.storage.tables import reconciliation_items as items

routes = web.RouteTableDef()


def _json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "store_id": row.store_id, "seq": row.seq, "kind": row.kind,
            "detail": row.detail, "status": row.status, "created_at": iso_utc(row.created_at),
            "resolved_by": row.resolved_by, "resolved_at": iso_utc(row.resolved_at),
            "resolution": row.resolution}


@routes.get("/api/v1/reconciliation-items")
@requires(Permission.RECONCILIATION_READ)
async def list_items(request: web.Request) -> web.Response:
    limit, after = limit_param(request), cursor_param(request)
    query = sa.select(items).where(items.c.id > after).order_by(items.c.id).limit(limit + 1)
    status = request.query.get("status")
    if status is not None:
        if status not in ("open", "resolved"):
            raise Problem(400, "status must be open or resolved", field="status")
        query = query.where(items.c.status == status)
    if store_id := request.query.get("store_id"):
        query = query.where(items.c.store_id == store_id)
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(query)).all()
    page = rows[:limit]
    return web.json_response({"items": [_json(r) for r in page],
                              "next_cursor": encode_cursor(page[-1].id)
                              if len(rows) > limit else None})


@routes.get("/api/v1/reconciliation-items/{item_id:\\d+}")
@requires(Permission.RECONCILIATION_READ)
async def get_item(request: web.Request) -> web.Response:
    item_id = int(request.match_info["item_id"])
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(items).where(items.c.id == item_id))).first()
    if row is None:
        raise Problem(404, f"no reconciliation item {item_id}")
    return web.json_response(_json(row))


@routes.post("/api/v1/reconciliation-items/{item_id:\\d+}/resolve")
@requires(Permission.RECONCILIATION_RESOLVE)
async def resolve_item(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    item_id = int(request.match_info["item_id"])
    body = await read_json_object(request)
    resolution = body.get("resolution")
    if not isinstance(resolution, str) or not resolution.strip() or len(resolution) > 500:
        raise Problem(422, "resolution: say what was done and why (1-500 characters)",
                      field="resolution")
    async with request.app[keys.STORAGE].write() as conn:
        row = (await conn.execute(sa.select(items).where(items.c.id == item_id)
                                  .with_for_update())).first()
        if row is None:
            raise Problem(404, f"no reconciliation item {item_id}")
        if row.status == "resolved":
            raise Problem(409, f"item {item_id} was already resolved by {row.resolved_by} at "
                               f"{iso_utc(row.resolved_at)}")
        await conn.execute(items.update().where(items.c.id == item_id).values(
            status="resolved", resolved_by=principal.name, resolved_at=datetime.now(UTC),
            resolution=resolution.strip()))
        before = row
        row = (await conn.execute(sa.select(items).where(items.c.id == item_id))).one()
        await audit.record(conn, principal, "reconciliation_item.resolve",
                           f"reconciliation_item:{item_id}", {"status": before.status},
                           {"status": row.status, "resolution": row.resolution})
    return web.json_response(_json(row))
