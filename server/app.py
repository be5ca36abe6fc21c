"""The central server's aiohttp application: ``create_app(settings)``; nothing at import time."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Handler, Problem, problem_middleware
from config import ServerSettings
from server import keys
from server.accounting.chart import load_chart
from server.accounting.nightly import nightly_scheduler
from server.accounting.posting import Accounting, sync_chart
from server.admission import PushGate
from server.api import ROUTE_TABLES
from server.auth import api_auth_middleware
from server.errors import DatabaseNotMigrated
from server.metrics import METRICS, Metrics, metrics_middleware
from server.metrics import routes as metrics_routes
from server.payroll.bank import BankVault, load_or_create_key
from server.payroll.nightly import run_payroll_nightly
from server.payroll.overtime import load_overtime_rules
from server.payroll.paycheck import load_deduction_kinds
from server.payroll.runs import PayrollContext
from server.storage import Storage, current_revision, head_revision
from server.sync_routes import PUSH_GATE
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
async def busy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The database too busy to answer in time — no free connection, a lock held by another
    process, a statement past its timeout — is a 503 the caller can retry, never a 500; the
    transaction rolled back, so nothing was kept."""
    try:
        return await handler(request)
    except sa.exc.TimeoutError:
        raise _busy("no database connection came free in time") from None
    except sa.exc.OperationalError as exc:
        if "database is locked" not in str(exc.orig):
            raise
        raise _busy("the database is locked by another process") from None
    except sa.exc.DBAPIError as exc:
        if not _is_pg_timeout(exc):
            raise
        raise _busy("a statement or lock wait took longer than "
                    f"{request.app[keys.SETTINGS].database.statement_timeout_seconds} s") \
            from None


def _busy(why: str) -> Problem:
    return Problem(503, f"head office is busy ({why}); nothing was changed — retry shortly",
                   headers={"Retry-After": "2"})


def _is_pg_timeout(exc: sa.exc.DBAPIError) -> bool:
    """PostgreSQL's statement_timeout (57014) or lock_timeout (55P03)."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(
        getattr(exc.orig, "__cause__", None), "sqlstate", None)
    return code in ("57014", "55P03")


def create_app(settings: ServerSettings) -> web.Application:
    app = web.Application(middlewares=[metrics_middleware, problem_middleware,
                                       busy_middleware, api_auth_middleware],
                          client_max_size=settings.http.max_body_bytes)
    app[keys.SETTINGS] = settings
    app[keys.ACCOUNTING] = Accounting(load_chart(settings.accounting.chart_file),
                                      settings.chain.currency)
    app[keys.PAYROLL] = PayrollContext(load_overtime_rules(), load_deduction_kinds(),
                                       app[keys.ACCOUNTING].chart,
                                       settings.payroll.workweek_start,
                                       settings.chain.currency)
    app[METRICS] = Metrics()
    app[PUSH_GATE] = PushGate(settings.sync.max_concurrent_pushes,
                              settings.sync.max_waiting_pushes)
    app.cleanup_ctx.append(_storage_ctx)
    app.cleanup_ctx.append(_payroll_ctx)
    app.cleanup_ctx.append(_nightly_ctx)
    app.cleanup_ctx.append(_runtime_ctx)
    for table in (health_routes, metrics_routes, sync_routes, *ROUTE_TABLES):
        app.add_routes(table)
    return app


async def _runtime_ctx(_app: web.Application) -> AsyncIterator[None]:
    """What the server builds once and keeps to the end (modules, the app, the chart, the
    database engine, compiled statements) is moved out of the garbage collector's sight once
    it has started: every full collection then walks only what requests made, not those
    hundreds of thousands of objects again (a push batch's decoded events and posted lines
    set one off every few batches). Handed back at shutdown, for a process that runs on."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


async def _nightly_ctx(app: web.Application) -> AsyncIterator[None]:
    storage, payroll = app[keys.STORAGE], app[keys.PAYROLL]

    async def payroll_night(slot: str) -> None:
        await run_payroll_nightly(storage, payroll, slot)

    async with nightly_scheduler(storage, app[keys.ACCOUNTING], app[keys.SETTINGS].accounting,
                                 then=(payroll_night,)):
        yield


async def _payroll_ctx(app: web.Application) -> AsyncIterator[None]:
    """The bank-account sealing key (made on first start) is read before any request."""
    settings = app[keys.SETTINGS]
    key = await asyncio.to_thread(load_or_create_key, settings.payroll.bank_key_file)
    app[keys.BANK_VAULT] = BankVault(key)
    yield


async def _storage_ctx(app: web.Application) -> AsyncIterator[None]:
    storage = Storage.for_settings(app[keys.SETTINGS].database)
    try:
        current = await current_revision(storage)
        if current != head_revision():
            raise DatabaseNotMigrated(current, head_revision())
    except BaseException:
        await storage.dispose()
        raise
    async with storage.write() as conn:
        await sync_chart(conn, app[keys.ACCOUNTING].chart)
    app[keys.STORAGE] = storage
    yield
    await storage.dispose()
