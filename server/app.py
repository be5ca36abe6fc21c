"""The central server's aiohttp application: ``create_app(settings)``; nothing at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from backoffice.problems import Problem, problem_middleware
from config import ServerSettings
from server import keys
from server.api import ROUTE_TABLES
from server.auth import api_auth_middleware
from server.errors import DatabaseNotMigrated
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


def create_app(settings: ServerSettings) -> web.Application:
    app = web.Application(middlewares=[problem_middleware, api_auth_middleware],
                          client_max_size=settings.http.max_body_bytes)
    app[keys.SETTINGS] = settings
    app.cleanup_ctx.append(_storage_ctx)
    for table in (health_routes, sync_routes, *ROUTE_TABLES):
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
