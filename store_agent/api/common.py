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
        opening = drawer_opening(outcome, terminal_id)
        if opening is not None:
            app[keys.EVENTS].publish(opening)
        if keys.SYNC in app:
            app[keys.SYNC].nudge()
        if keys.PRINTER in app:
            app[keys.PRINTER].nudge()
    return web.json_response(outcome.response, status=201 if outcome.created else 200)


def drawer_opening(outcome: Outcome, terminal_id: str) -> dict[str, Any] | None:
    """The ``drawer`` notice for an outcome that opens a cash drawer: a sale taking cash, or
    an audited no-sale (at its session's terminal). A drawer on the printer is kicked by the
    receipt's own bytes instead."""
    response = outcome.response
    if outcome.kind == "sale.completed" and \
            any(t["type"] == "cash" for t in response.get("tenders", ())):
        return {"type": "drawer", "terminal_id": terminal_id, "reason": "cash sale",
                "seq": outcome.seq, "sale_id": response["sale_id"]}
    if outcome.kind == "cash.no_sale":
        return {"type": "drawer", "terminal_id": response.get("terminal_id", terminal_id),
                "reason": f"no-sale: {response['reason']}", "seq": outcome.seq}
    return None


async def read(request: web.Request, work: Callable[[Database], Any]) -> Any:
    return await request.app[keys.LEDGER].run(work)
