"""Head-office API: stores, their sync status, enrollment and sync tokens."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem, read_json_object
from config import checks
from server import keys
from server.admin import enroll_store, revoke_store_token, rotate_store_token
from server.api.params import iso_utc
from server.auth import PRINCIPAL
from server.errors import StoreAlreadyEnrolled, UnknownStore
from server.roles import Permission, requires
from server.storage.tables import reconciliation_items, store_digests, stores

routes = web.RouteTableDef()


def _store_json(row: Any, open_items: int, digest: Any = None) -> dict[str, Any]:
    return {"store_id": row.store_id, "name": row.name, "timezone": row.timezone,
            "enrolled_at": iso_utc(row.enrolled_at),
            "sync": {"high_water_seq": row.high_water, "last_hash": row.last_hash,
                     "last_seen_at": iso_utc(row.last_seen_at),
                     "store_head_seq": row.head_seq,
                     "events_behind": None if row.head_seq is None
                     else max(0, row.head_seq - row.high_water),
                     "clock_skew_seconds": row.clock_skew_s},
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
@requires(Permission.STORES_READ)
async def list_stores(request: web.Request) -> web.Response:
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(sa.select(stores).order_by(stores.c.store_id))).all()
        open_items = await _open_items(conn)
    return web.json_response({"items": [_store_json(r, open_items.get(r.store_id, 0))
                                        for r in rows]})


@routes.get("/api/v1/stores/{store_id}")
@requires(Permission.STORES_READ)
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


@routes.post("/api/v1/stores")
@requires(Permission.STORES_WRITE)
async def post_store(request: web.Request) -> web.Response:
    """Enroll a store; the answer carries its sync token, shown this once only."""
    body = await read_json_object(request)
    store_id, name = body.get("store_id"), body.get("name")
    timezone = body.get("timezone")
    if not isinstance(store_id, str) or (why := checks.store_id(store_id)):
        raise Problem(422, f"store_id: {why if isinstance(store_id, str) else 'required'}",
                      field="store_id")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Problem(422, "name: required, 1-200 characters", field="name")
    if not isinstance(timezone, str) or (why := checks.timezone(timezone)):
        raise Problem(422, f"timezone: {why if isinstance(timezone, str) else 'required'}",
                      field="timezone")
    try:
        token = await enroll_store(request.app[keys.STORAGE], store_id, name.strip(), timezone,
                                   actor=request[PRINCIPAL])
    except StoreAlreadyEnrolled as exc:
        raise Problem(409, str(exc)) from exc
    return web.json_response({"store_id": store_id, "name": name.strip(), "timezone": timezone,
                              "sync_token": token}, status=201)


@routes.post("/api/v1/stores/{store_id}/rotate-token")
@requires(Permission.STORES_WRITE)
async def rotate_token(request: web.Request) -> web.Response:
    """A new sync token (shown once); the old one stops working at once."""
    store_id = request.match_info["store_id"]
    try:
        token = await rotate_store_token(request.app[keys.STORAGE], store_id,
                                         actor=request[PRINCIPAL])
    except UnknownStore as exc:
        raise Problem(404, str(exc)) from exc
    return web.json_response({"store_id": store_id, "sync_token": token})


@routes.post("/api/v1/stores/{store_id}/revoke-token")
@requires(Permission.STORES_WRITE)
async def revoke_token(request: web.Request) -> web.Response:
    """Refuse the store's sync token from now on (a stolen till server, a closed store)."""
    store_id = request.match_info["store_id"]
    try:
        await revoke_store_token(request.app[keys.STORAGE], store_id, actor=request[PRINCIPAL])
    except UnknownStore as exc:
        raise Problem(404, str(exc)) from exc
    return web.json_response({"store_id": store_id, "revoked": True})
