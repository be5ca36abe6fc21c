"""The store agent's aiohttp application: ``create_app(settings)`` builds it, nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from backoffice.problems import problem_middleware
from config import AgentSettings
from store_agent import keys
from store_agent.api import ROUTE_TABLES
from store_agent.api.errors import agent_error_middleware
from store_agent.auth import terminal_auth_middleware
from store_agent.barcodes import LabelRules
from store_agent.clock import Clock, clock_from_setting
from store_agent.context import StoreContext
from store_agent.devices import DisplayService, DrawerService, ScaleService
from store_agent.ledger import Ledger
from store_agent.printing import PrintWorker
from store_agent.scanning import ScannerService
from store_agent.stream import EventBroker
from store_agent.sync_loop import SyncLoop
from sync.money import exponent_of


def create_app(settings: AgentSettings, clock: Clock | None = None) -> web.Application:
    app = web.Application(middlewares=[problem_middleware, terminal_auth_middleware,
                                       agent_error_middleware],
                          client_max_size=settings.http.max_body_bytes)
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock or clock_from_setting(settings.store.clock_start)
    app[keys.STORE] = store_context(settings)
    app[keys.TERMINALS] = {token: terminal for terminal, token in settings.terminals.items()}
    app[keys.EVENTS] = EventBroker()
    app.cleanup_ctx.append(_ledger_ctx)
    if settings.sync.enabled:
        app.cleanup_ctx.append(_sync_ctx)
    if settings.printer.url:
        app.cleanup_ctx.append(_printer_ctx)
    if settings.scanner.url:
        app.cleanup_ctx.append(_scanner_ctx)
    if settings.display.url:
        app.cleanup_ctx.append(_display_ctx)
    if settings.scale.url:
        app.cleanup_ctx.append(_scale_ctx)
    if settings.drawer.url:
        app.cleanup_ctx.append(_drawer_ctx)
    for table in ROUTE_TABLES:
        app.add_routes(table)
    return app


def store_context(settings: AgentSettings) -> StoreContext:
    store = settings.store
    return StoreContext(store_id=store.id, timezone=store.timezone, day_cutoff=store.day_cutoff,
                        currency=store.currency, exponent=exponent_of(store.currency),
                        name=store.name, prices_include_tax=store.prices_include_tax,
                        require_pin=store.require_pin,
                        discount_limit_percent=store.discount_limit_percent,
                        labels=LabelRules.parse(settings.labels.prefixes))


async def _display_ctx(app: web.Application) -> AsyncIterator[None]:
    display = DisplayService(app[keys.SETTINGS], app[keys.EVENTS])
    app[keys.EVENTS].listen(display.on_notice)
    app[keys.DISPLAY] = display
    display.show(app[keys.SETTINGS].display.idle_message)
    display.start()
    yield
    await display.stop()


async def _scale_ctx(app: web.Application) -> AsyncIterator[None]:
    scale = ScaleService(app[keys.SETTINGS], app[keys.EVENTS])
    app[keys.SCALE] = scale
    scale.start()
    yield
    await scale.stop()


async def _drawer_ctx(app: web.Application) -> AsyncIterator[None]:
    drawer = DrawerService(app[keys.SETTINGS], app[keys.EVENTS])
    app[keys.EVENTS].listen(drawer.on_notice)
    app[keys.DRAWER] = drawer
    drawer.start()
    yield
    await drawer.stop()


async def _scanner_ctx(app: web.Application) -> AsyncIterator[None]:
    scanner = ScannerService(app[keys.SETTINGS], app[keys.LEDGER], app[keys.STORE],
                             app[keys.CLOCK], app[keys.EVENTS])
    scanner.start()
    app[keys.SCANNER] = scanner
    yield
    await scanner.stop()


async def _printer_ctx(app: web.Application) -> AsyncIterator[None]:
    worker = PrintWorker(app[keys.LEDGER], app[keys.SETTINGS], app[keys.CLOCK],
                         app[keys.EVENTS])
    await worker.start()
    app[keys.PRINTER] = worker
    yield
    await worker.stop()


async def _sync_ctx(app: web.Application) -> AsyncIterator[None]:
    loop = SyncLoop(app[keys.LEDGER], app[keys.SETTINGS], app[keys.CLOCK], app[keys.EVENTS])
    await loop.start()
    app[keys.SYNC] = loop
    yield
    await loop.stop()


async def _ledger_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    ledger = Ledger(settings.ledger.path, settings.store.id, settings.ledger.max_size_mb)
    await ledger.open()
    app[keys.LEDGER] = ledger
    yield
    await ledger.close()
