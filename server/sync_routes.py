"""The sync endpoints stores talk to (msgpack in, msgpack out; errors as problem+json)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from backoffice.problems import Problem
from server import keys
from server.auth import authenticate_store
from server.errors import ChainBroken, HistoryDiverged, SeqGap
from server.ingest import apply_push
from sync import CONTENT_TYPE, PUSH_PATH, DecodeError, decode_push, encode_push_ack

routes = web.RouteTableDef()


@routes.post(PUSH_PATH)
async def push(request: web.Request) -> web.Response:
    store_id = await authenticate_store(request)
    if request.content_type != CONTENT_TYPE:
        raise Problem(415, f"expected Content-Type {CONTENT_TYPE}, got "
                           f"{request.content_type or 'none'}")
    body = await request.read()
    settings = request.app[keys.SETTINGS]
    try:
        batch = decode_push(body, max_events=settings.sync.max_batch_events)
    except DecodeError as exc:
        raise Problem(400, f"malformed push batch: {exc}", field=exc.field) from exc
    if batch.store_id != store_id:
        raise Problem(403, f"this token belongs to store {store_id}; it cannot push events of "
                           f"store {batch.store_id}")
    try:
        ack = await apply_push(request.app[keys.STORAGE], batch, datetime.now(UTC))
    except SeqGap as exc:
        raise Problem(409, str(exc), expected_seq=exc.expected) from exc
    except (ChainBroken, HistoryDiverged) as exc:
        raise Problem(409, str(exc), seq=exc.seq) from exc
    return web.Response(body=encode_push_ack(ack), content_type=CONTENT_TYPE)
