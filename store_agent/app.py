"""The store agent's aiohttp application: ``create_app(settings)`` builds it, nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from backoffice.problems import problem_middleware
from config import AgentSettings
from store_agent import keys
from store_agent.auth import terminal_auth_middleware
from store_agent.clock import Clock, clock_from_setting
from store_agent.ledger import Ledger
from store_agent.routes import routes
from store_agent.sales import StoreContext
from sync.money import exponent_of


def create_app(settings: AgentSettings, clock: Clock | None = None) -> web.Application:
    app = web.Application(middlewares=[problem_middleware, terminal_auth_middleware],
                          client_max_size=settings.http.max_body_bytes)
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock or clock_from_setting(settings.store.clock_start)
    app[keys.STORE] = store_context(settings)
    app[keys.TERMINALS] = {token: terminal for terminal, token in settings.terminals.items()}
    app.cleanup_ctx.append(_ledger_ctx)
    app.add_routes(routes)
    return app


def store_context(settings: AgentSettings) -> StoreContext:
    return StoreContext(store_id=settings.store.id, timezone=settings.store.timezone,
                        day_cutoff=settings.store.day_cutoff, currency=settings.store.currency,
                        exponent=exponent_of(settings.store.currency))


async def _ledger_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    ledger = Ledger(settings.ledger.path, settings.store.id)
    await ledger.open()
    app[keys.LEDGER] = ledger
    yield
    await ledger.close()
