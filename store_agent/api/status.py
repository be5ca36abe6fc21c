"""Routes: health, the agent's status, and the live event stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from sqlite_utils import Database

from store_agent import keys
from store_agent.api.common import read
from store_agent.ledger import sync_state
from store_agent.printing import queued

routes = web.RouteTableDef()
HEARTBEAT_SECONDS = 15.0


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "store_id": request.app[keys.STORE].store_id})


@routes.get("/api/v1/status")
async def get_status(request: web.Request) -> web.Response:
    def work(db: Database) -> dict[str, Any]:
        state = sync_state(db)
        printing = dict(db.execute("SELECT status, COUNT(*) FROM print_queue GROUP BY status")
                        .fetchall())
        skew = db.execute("SELECT clock_skew_seconds FROM sync_state WHERE id = 1").fetchone()
        check = db.execute("SELECT digest_checked_at, digest_through_seq, digest_matches, "
                           "digest_problems FROM sync_state WHERE id = 1").fetchone()
        return {
            "events": {"last_seq": state.last_seq, "acknowledged_seq": state.acked_seq,
                       "pending": state.pending},
            "sync": {"last_attempt_at": state.last_attempt_at,
                     "last_success_at": state.last_success_at, "last_error": state.last_error,
                     "clock_skew_seconds": skew[0] if skew else None},
            "print_queue": {"pending": printing.get("pending", 0),
                            "failed": printing.get("failed", 0)},
            "reconciliation": {"checked_at": check[0], "through_seq": check[1],
                               "matches": None if check[2] is None else bool(check[2]),
                               "differences": json.loads(check[3]) if check[3] else []},
        }

    body = await read(request, work)
    return web.json_response({
        "store_id": request.app[keys.STORE].store_id, **body,
        "devices": {**({"cash_drawer": request.app[keys.DRAWER].status()}
                       if keys.DRAWER in request.app else
                       {"cash_drawer": request.app[keys.PRINTER].drawer_status()}
                       if keys.PRINTER in request.app else {}),
                    "receipt_printer": await request.app[keys.PRINTER].status()
                    if keys.PRINTER in request.app else {
                        "type": "receipt_printer", "url": "", "state": "not_configured",
                        "queued": await read(request, queued)},
                    **{name: request.app[key].status()
                       for name, key in (("scanner", keys.SCANNER),
                                         ("customer_display", keys.DISPLAY),
                                         ("scale", keys.SCALE)) if key in request.app}},
        "sync_loop": request.app[keys.SYNC].status() if keys.SYNC in request.app
        else {"background": False},
        "clock": request.app[keys.CLOCK].now().isoformat(),
        "stream_subscribers": request.app[keys.EVENTS].subscribers,
    })


@routes.get("/api/v1/events")
async def event_stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: ``ledger`` notices, sync and device status, scanner reads."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
    await response.prepare(request)
    await response.write(b": connected\n\n")
    with request.app[keys.EVENTS].subscribe() as queue:
        while True:
            try:
                notice = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            data = json.dumps(notice, separators=(",", ":"))
            await response.write(f"event: {notice.get('type', 'message')}\ndata: {data}\n\n"
                                 .encode())
