"""The central server's aiohttp application: ``create_app(settings)``; nothing at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Handler, Problem, problem_middleware
from config import ServerSettings
from server import keys
from server.api import ROUTE_TABLES
from server.auth import api_auth_middleware
from server.errors import DatabaseNotMigrated
from server.metrics import METRICS, Metrics, metrics_middleware
from server.metrics import routes as metrics_routes
from server.storage import Storage, current_revision, head_revision
from server.sync_routes import routes as sync_routes

health_routes = web.RouteTableDef()


@health_routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@health_routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    try:
        revision = await current_revision(request.app[keys.STORAGE])
    except Exception as exc:
        raise Problem(503, f"database unreachable: {type(exc).__name__}") from exc
    return web.json_response({"status": "ready", "schema_revision": revision})


@web.middleware
async def timeout_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Abandon a request that runs too long: 503, and its transaction rolls back."""
    seconds = request.app[keys.SETTINGS].http.request_timeout_seconds
    try:
        async with asyncio.timeout(seconds):
            return await handler(request)
    except TimeoutError:
        raise Problem(503, f"the request took longer than {seconds} s and was abandoned; "
                           "nothing it would have changed was kept — retry") from None
    except sa.exc.OperationalError as exc:
        if "database is locked" not in str(exc.orig):
            raise
        raise Problem(503, "head office's database is busy (locked by another process); "
                           "nothing was changed — retry shortly") from None


def create_app(settings: ServerSettings) -> web.Application:
    app = web.Application(middlewares=[metrics_middleware, problem_middleware,
                                       timeout_middleware, api_auth_middleware],
                          client_max_size=settings.http.max_body_bytes)
    app[keys.SETTINGS] = settings
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_storage_ctx)
    for table in (health_routes, metrics_routes, sync_routes, *ROUTE_TABLES):
        app.add_routes(table)
    return app


async def _storage_ctx(app: web.Application) -> AsyncIterator[None]:
    storage = Storage(app[keys.SETTINGS].database.url)
    try:
        current = await current_revision(storage)
        if current != head_revision():
            raise DatabaseNotMigrated(current, head_revision())
    except BaseException:
        await storage.dispose()
        raise
    app[keys.STORAGE] = storage
    yield
    await storage.dispose()
