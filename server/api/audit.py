"""Head-office API: the audit log of head-office changes, newest first, filterable."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web

from server import keys
from server.api.params import cursor_param, encode_cursor, iso_utc, limit_param
from server.roles import Permission, requires
from server.storage.tables import audit_log

routes = web.RouteTableDef()


def _json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "at": iso_utc(row.at), "actor": row.actor,
            "actor_role": row.actor_role, "actor_token_id": row.actor_token_id,
            "action": row.action, "target": row.target, "before": row.before,
            "after": row.after}


@routes.get("/api/v1/audit-log")
@requires(Permission.AUDIT_READ)
async def list_audit(request: web.Request) -> web.Response:
    """Entries in the order they happened; filter by ``target`` (e.g. ``product:1001``),
    ``action`` (e.g. ``price.schedule``) or ``actor``."""
    limit, after = limit_param(request), cursor_param(request)
    query = sa.select(audit_log).where(audit_log.c.id > after).order_by(audit_log.c.id) \
        .limit(limit + 1)
    for name in ("target", "action", "actor"):
        if value := request.query.get(name):
            query = query.where(audit_log.c[name] == value)
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(query)).all()
    page = rows[:limit]
    return web.json_response({"items": [_json(r) for r in page],
                              "next_cursor": encode_cursor(page[-1].id)
                              if len(rows) > limit else None})
