"""Routes: cash sessions, paid in/out, no-sale, X and Z reports, business-day close."""

from __future__ import annotations

from aiohttp import web

from backoffice.problems import Problem
from store_agent import keys
from store_agent.api.common import read, run_action
from store_agent.api.sales import DATE
from store_agent.cash import (
    cash_movement,
    close_business_day,
    close_session,
    open_session,
    queue_x_report,
    session_report,
)
from store_agent.clock import utc_text

routes = web.RouteTableDef()
MOVEMENTS = {"paid-in": "cash.paid_in", "paid-out": "cash.paid_out", "no-sale": "cash.no_sale"}


@routes.post("/api/v1/cash-sessions/{session_id}/x-report/print")
async def print_x_report(request: web.Request) -> web.Response:
    """Queue the session's X report for its till's printer (the Z report prints by itself
    when the session is closed)."""
    session_id = request.match_info["session_id"]
    app = request.app
    store, now = app[keys.STORE], utc_text(app[keys.CLOCK].now())
    job_id = await app[keys.LEDGER].run(lambda db: queue_x_report(db, store, session_id, now))
    if keys.PRINTER in app:
        app[keys.PRINTER].nudge()
    return web.json_response({"session_id": session_id, "job_id": job_id, "status": "queued"},
                             status=202)


@routes.post("/api/v1/cash-sessions")
async def post_session(request: web.Request) -> web.Response:
    return await run_action(request, open_session)


@routes.get("/api/v1/cash-sessions")
async def list_sessions(request: web.Request) -> web.Response:
    status = request.query.get("status")
    if status not in (None, "open", "closed"):
        raise Problem(400, "status must be open or closed", field="status")
    rows = await read(request, lambda db: db.execute(
        "SELECT session_id, drawer_id, terminal_id, business_date, status, opened_at, "
        "closed_at FROM cash_sessions WHERE (? IS NULL OR status = ?) ORDER BY opened_seq DESC "
        "LIMIT 200", [status, status]).fetchall())
    names = ("session_id", "drawer_id", "terminal_id", "business_date", "status", "opened_at",
             "closed_at")
    return web.json_response({"items": [dict(zip(names, r, strict=True)) for r in rows]})


@routes.post("/api/v1/cash-sessions/{session_id}/{movement:paid-in|paid-out|no-sale}")
async def post_movement(request: web.Request) -> web.Response:
    session_id = request.match_info["session_id"]
    kind = MOVEMENTS[request.match_info["movement"]]
    return await run_action(request, lambda db, store, terminal, body, now: cash_movement(
        db, store, session_id, kind, body, now))


@routes.get("/api/v1/cash-sessions/{session_id}/x-report")
async def get_x_report(request: web.Request) -> web.Response:
    session_id, store = request.match_info["session_id"], request.app[keys.STORE]
    return web.json_response(await read(request, lambda db: session_report(db, store,
                                                                            session_id)))


@routes.post("/api/v1/cash-sessions/{session_id}/close")
async def post_close(request: web.Request) -> web.Response:
    session_id = request.match_info["session_id"]
    return await run_action(request, lambda db, store, terminal, body, now: close_session(
        db, store, session_id, body, now))


@routes.post("/api/v1/business-days/{business_date}/close")
async def post_close_day(request: web.Request) -> web.Response:
    day = request.match_info["business_date"]
    if not DATE.match(day):
        raise Problem(400, "business_date must be YYYY-MM-DD", field="business_date")
    return await run_action(request, lambda db, store, terminal, body, now: close_business_day(
        db, store, day, body, now))
