"""One mapping from the agent's errors to HTTP answers, for every route."""

from __future__ import annotations

from aiohttp import web

from backoffice.problems import Handler, Problem
from store_agent import errors

STATUS: tuple[tuple[type[errors.AgentError], int], ...] = (
    (errors.UnknownProduct, 404),
    (errors.UnknownSale, 404),
    (errors.UnknownSession, 404),
    (errors.UnknownTransfer, 404),
    (errors.UnknownEmployee, 422),
    (errors.InvalidSale, 422),
    (errors.TendersDoNotCover, 422),
    (errors.CatalogImportError, 422),
    (errors.NotAllowed, 403),
    (errors.StateConflict, 409),
    (errors.SaleConflict, 409),
    (errors.RequestConflict, 409),
    (errors.LedgerFull, 507),
)


@web.middleware
async def agent_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.AgentError as exc:
        for cls, status in STATUS:
            if isinstance(exc, cls):
                field = getattr(exc, "field", None)
                extra = {"field": field} if field else {}
                raise Problem(status, str(exc), **extra) from exc
        raise
