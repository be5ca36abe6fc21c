"""Helpers shared by the route modules: run a use case on the ledger thread and answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlite_utils import Database

from backoffice.problems import read_json_object
from store_agent import keys
from store_agent.auth import TERMINAL_ID
from store_agent.context import Outcome, StoreContext

Action = Callable[[Database, StoreContext, str, dict[str, Any], datetime], Any]


async def run_action(request: web.Request, action: Action) -> web.Response:
    """Read the JSON body and run ``action(db, store, terminal_id, body, now)`` on the writer;
    answer 201 when it recorded something and 200 when it replayed an earlier answer."""
    body = await read_json_object(request)
    app = request.app
    store, terminal_id, now = app[keys.STORE], request[TERMINAL_ID], app[keys.CLOCK].now()
    outcome = await app[keys.LEDGER].run(lambda db: action(db, store, terminal_id, body, now))
    if isinstance(outcome, Outcome) and outcome.created:
        app[keys.EVENTS].publish({"type": "ledger", "kind": outcome.kind, "seq": outcome.seq})
        if outcome.kind == "sale.completed":
            app[keys.EVENTS].publish({"type": "sale", "terminal_id": terminal_id,
                                      "sale_id": outcome.response["sale_id"],
                                      "total": outcome.response["total"],
                                      "change_due": outcome.response["change_due"]})
        if keys.SYNC in app:
            app[keys.SYNC].nudge()
        if keys.PRINTER in app:
            app[keys.PRINTER].nudge()
    return web.json_response(outcome.response, status=201 if outcome.created else 200)


async def read(request: web.Request, work: Callable[[Database], Any]) -> Any:
    return await request.app[keys.LEDGER].run(work)
