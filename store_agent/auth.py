"""Terminal authentication: every ``/api/v1`` call carries its terminal's bearer token."""

from __future__ import annotations

import hmac

from aiohttp import web

from backoffice.problems import Handler, Problem, bearer_token
from store_agent import keys

TERMINAL_ID = web.RequestKey("terminal_id", str)
OPEN_PATHS = frozenset({"/healthz", "/api/v1/openapi.json"})


@web.middleware
async def terminal_auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in OPEN_PATHS:
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        raise Problem(401, "missing terminal token: send 'Authorization: Bearer TOKEN' with the "
                           "token from the store's config [terminals]")
    terminal_id = _terminal_for(request.app[keys.TERMINALS], token)
    if terminal_id is None:
        raise Problem(401, "terminal token not recognised by this store agent")
    request[TERMINAL_ID] = terminal_id
    return await handler(request)


def _terminal_for(terminals: dict[str, str], token: str) -> str | None:
    found = None
    for known, terminal_id in terminals.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            found = terminal_id
    return found
