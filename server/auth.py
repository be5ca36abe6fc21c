"""Who is calling: a head-office user (API token with a role) or a store (sync token)."""

from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Handler, Problem, bearer_token
from server import keys
from server.principal import Principal
from server.roles import allowed, holders, permission_of
from server.storage.tables import api_tokens, stores
from server.tokens import token_digest

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json",
                        "/api/v1/docs"})


PRINCIPAL = web.RequestKey("principal", Principal)


@web.middleware
async def api_auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Head-office API routes need a valid, unrevoked API token whose role grants the route's
    permission; sync routes check their own (store) tokens."""
    if request.path in OPEN_PATHS or request.path.startswith("/sync/"):
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        raise Problem(401, "missing API token: send 'Authorization: Bearer TOKEN' (the admin "
                           "token is printed once by 'backoffice server init')")
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(api_tokens).where(
            api_tokens.c.token_hash == token_digest(token)))).first()
    if row is None or row.revoked_at is not None:
        raise Problem(401, "API token not recognised or revoked")
    principal = Principal(token_id=row.id, name=row.name, role=row.role)
    request[PRINCIPAL] = principal
    if request.match_info.http_exception is None:  # an unknown path is a 404, not a 403
        permission = permission_of(request.match_info.handler)
        if permission is None:
            raise Problem(403, "this route declares no permission, so no role may use it")
        if not allowed(principal.role, permission):
            raise Problem(403, f"the {principal.role} role may not {request.method} "
                               f"{request.path} (it needs {permission.value}, held by "
                               f"{', '.join(holders(permission))})")
    return await handler(request)


async def authenticate_store(request: web.Request) -> str:
    """The store id whose sync token the request carries, or a 401 Problem."""
    token = bearer_token(request)
    if token is None:
        raise Problem(401, "missing store sync token: send 'Authorization: Bearer TOKEN'")
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(stores.c.store_id, stores.c.revoked_at).where(
            stores.c.token_hash == token_digest(token)))).first()
    if row is None:
        raise Problem(401, "sync token not recognised by head office")
    if row.revoked_at is not None:
        raise Problem(401, f"the sync token of store {row.store_id} has been revoked")
    return str(row.store_id)
