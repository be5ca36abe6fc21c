"""Head-office API: API tokens for people and systems — issue (shown once), list, revoke."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem, read_json_object
from server import keys
from server.admin import create_api_token, revoke_api_token
from server.api.params import iso_utc
from server.auth import PRINCIPAL
from server.errors import LastAdminToken, UnknownApiToken
from server.roles import ROLES, Permission, requires
from server.storage.tables import api_tokens

routes = web.RouteTableDef()


def _json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "role": row.role,
            "created_at": iso_utc(row.created_at), "revoked_at": iso_utc(row.revoked_at)}


@routes.get("/api/v1/api-tokens")
@requires(Permission.TOKENS_MANAGE)
async def list_tokens(request: web.Request) -> web.Response:
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(sa.select(api_tokens).order_by(api_tokens.c.id))).all()
    return web.json_response({"items": [_json(r) for r in rows]})


@routes.post("/api/v1/api-tokens")
@requires(Permission.TOKENS_MANAGE)
async def post_token(request: web.Request) -> web.Response:
    """Issue a token; its secret is in this answer only (head office keeps a digest)."""
    body = await read_json_object(request)
    name, role = body.get("name"), body.get("role")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Problem(422, "name: who or what holds the token, 1-200 characters", field="name")
    if role not in ROLES:
        raise Problem(422, f"role: one of {', '.join(ROLES)}", field="role")
    issued = await create_api_token(request.app[keys.STORAGE], name.strip(), str(role),
                                    actor=request[PRINCIPAL])
    return web.json_response({"id": issued.token_id, "name": issued.name, "role": issued.role,
                              "token": issued.token}, status=201)


@routes.delete("/api/v1/api-tokens/{token_id:\\d+}")
@requires(Permission.TOKENS_MANAGE)
async def delete_token(request: web.Request) -> web.Response:
    """Revoke a token at once; revoking one already revoked changes nothing."""
    token_id = int(request.match_info["token_id"])
    try:
        await revoke_api_token(request.app[keys.STORAGE], token_id, actor=request[PRINCIPAL])
    except UnknownApiToken as exc:
        raise Problem(404, str(exc)) from exc
    except LastAdminToken as exc:
        raise Problem(409, str(exc)) from exc
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id))
               ).one()
    return web.json_response(_json(row))
