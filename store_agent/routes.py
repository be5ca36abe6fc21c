"""The POS terminal API handlers: parse, call the ledger, serialise."""

from __future__ import annotations

import re

from aiohttp import web

from backoffice.problems import Problem, read_json_object
from store_agent import keys
from store_agent.auth import TERMINAL_ID
from store_agent.errors import (
    InvalidSale,
    LedgerFull,
    SaleConflict,
    TendersDoNotCover,
    UnknownProduct,
)
from store_agent.ledger import sync_state
from store_agent.sales import quote_basket, record_sale, sales_summary

routes = web.RouteTableDef()
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "store_id": request.app[keys.STORE].store_id})


@routes.post("/api/v1/sales")
async def post_sale(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    store = request.app[keys.STORE]
    now = request.app[keys.CLOCK].now()
    terminal_id = request[TERMINAL_ID]
    try:
        outcome = await request.app[keys.LEDGER].run(
            lambda db: record_sale(db, store, terminal_id, body, now))
    except UnknownProduct as exc:
        raise Problem(404, str(exc), field=exc.field) from exc
    except InvalidSale as exc:
        raise Problem(422, str(exc), field=exc.field) from exc
    except TendersDoNotCover as exc:
        raise Problem(422, str(exc), field="tenders") from exc
    except SaleConflict as exc:
        raise Problem(409, str(exc), field="sale_id") from exc
    except LedgerFull as exc:
        raise Problem(507, str(exc)) from exc
    return web.json_response(outcome.response, status=201 if outcome.created else 200)


@routes.post("/api/v1/quotes")
async def post_quote(request: web.Request) -> web.Response:
    """Price a basket (the total the terminal shows before taking payment); records nothing."""
    body = await read_json_object(request)
    store = request.app[keys.STORE]
    try:
        quote = await request.app[keys.LEDGER].run(lambda db: quote_basket(db, store, body))
    except UnknownProduct as exc:
        raise Problem(404, str(exc), field=exc.field) from exc
    except InvalidSale as exc:
        raise Problem(422, str(exc), field=exc.field) from exc
    return web.json_response(quote)


@routes.get("/api/v1/sales/summary")
async def get_sales_summary(request: web.Request) -> web.Response:
    day = request.query.get("business_date")
    if day is not None and not _DATE.match(day):
        raise Problem(400, "business_date must be YYYY-MM-DD")
    summary = await request.app[keys.LEDGER].run(lambda db: sales_summary(db, day))
    return web.json_response({"store_id": request.app[keys.STORE].store_id, **summary})


@routes.get("/api/v1/status")
async def get_status(request: web.Request) -> web.Response:
    state = await request.app[keys.LEDGER].run(sync_state)
    return web.json_response({
        "store_id": request.app[keys.STORE].store_id,
        "events": {"last_seq": state.last_seq, "acknowledged_seq": state.acked_seq,
                   "pending": state.pending},
        "sync": {"last_attempt_at": state.last_attempt_at,
                 "last_success_at": state.last_success_at, "last_error": state.last_error},
        "clock": request.app[keys.CLOCK].now().isoformat(),
    })
