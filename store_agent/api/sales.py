"""Routes: sales, quotes, voids, returns, and the sales summary."""

from __future__ import annotations

import re

from aiohttp import web

from backoffice.problems import Problem, read_json_object
from store_agent import keys
from store_agent.api.common import read, run_action
from store_agent.clock import utc_text
from store_agent.returns import record_return, void_sale
from store_agent.sales import queue_reprint, quote_basket, record_sale, sales_summary

routes = web.RouteTableDef()
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@routes.post("/api/v1/sales")
async def post_sale(request: web.Request) -> web.Response:
    return await run_action(request, record_sale)


@routes.post("/api/v1/quotes")
async def post_quote(request: web.Request) -> web.Response:
    """Price a basket (the total the terminal shows before taking payment); records nothing."""
    body = await read_json_object(request)
    store, now = request.app[keys.STORE], request.app[keys.CLOCK].now()
    return web.json_response(await read(request, lambda db: quote_basket(db, store, body, now)))


@routes.post("/api/v1/sales/{sale_id}/void")
async def post_void(request: web.Request) -> web.Response:
    sale_id = request.match_info["sale_id"]
    return await run_action(request, lambda db, store, terminal, body, now: void_sale(
        db, store, terminal, sale_id, body, now))


@routes.post("/api/v1/sales/{sale_id}/reprint")
async def post_reprint(request: web.Request) -> web.Response:
    """Queue a copy of a sale's receipt (marked COPY; it does not open the drawer)."""
    sale_id = request.match_info["sale_id"]
    app = request.app
    now = utc_text(app[keys.CLOCK].now())
    job_id = await app[keys.LEDGER].run(lambda db: queue_reprint(db, sale_id, now))
    if keys.PRINTER in app:
        app[keys.PRINTER].nudge()
    return web.json_response({"sale_id": sale_id, "job_id": job_id, "status": "queued"},
                             status=202)


@routes.post("/api/v1/returns")
async def post_return(request: web.Request) -> web.Response:
    return await run_action(request, record_return)


@routes.get("/api/v1/sales/summary")
async def get_sales_summary(request: web.Request) -> web.Response:
    day = request.query.get("business_date")
    if day is not None and not DATE.match(day):
        raise Problem(400, "business_date must be YYYY-MM-DD", field="business_date")
    summary = await read(request, lambda db: sales_summary(db, day))
    return web.json_response({"store_id": request.app[keys.STORE].store_id, **summary})
