"""The sync endpoints stores talk to (msgpack in, msgpack out; errors as problem+json)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import msgpack
from aiohttp import web

from backoffice.problems import Problem
from server import keys
from server.admission import PushGate
from server.auth import authenticate_store
from server.catalog import changes_for
from server.digests import digest_through, record_digest_report
from server.errors import ChainBroken, HistoryDiverged, SeqGap
from server.ingest import apply_push
from server.metrics import METRICS
from sync import (
    CONTENT_TYPE,
    DIGEST_PATH,
    PULL_PATH,
    PUSH_PATH,
    ChangePage,
    DecodeError,
    decode_push,
    encode_changes,
    encode_push_ack,
)

MAX_PULL = 1000

routes = web.RouteTableDef()
PUSH_GATE = web.AppKey("push_gate", PushGate)


@routes.post(PUSH_PATH)
async def push(request: web.Request) -> web.Response:
    try:
        async with request.app[PUSH_GATE].turn():
            return await _push(request)
    except Problem as problem:
        request.app[METRICS].push_rejected.labels(str(problem.status)).inc()
        raise


async def _push(request: web.Request) -> web.Response:
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
        now = datetime.now(UTC)
        ack = await apply_push(request.app[keys.STORAGE], batch, now, _skew_s(request, now),
                               request.app[keys.ACCOUNTING])
    except SeqGap as exc:
        raise Problem(409, str(exc), expected_seq=exc.expected) from exc
    except (ChainBroken, HistoryDiverged) as exc:
        raise Problem(409, str(exc), seq=exc.seq) from exc
    request.app[METRICS].events_ingested.labels(store_id).inc(ack.applied)
    return web.Response(body=encode_push_ack(ack), content_type=CONTENT_TYPE)


@routes.get(PULL_PATH)
async def pull(request: web.Request) -> web.Response:
    """Head-office changes in the store's scope after ``after``, oldest first."""
    store_id = await authenticate_store(request)
    after_text, limit_text = request.query.get("after", "0"), request.query.get("limit", "500")
    if not after_text.isdigit():
        raise Problem(400, f"after must be the last cursor applied (an integer >= 0), got "
                           f"{after_text!r}", field="after")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PULL:
        raise Problem(400, f"limit must be 1-{MAX_PULL}", field="limit")
    after = int(after_text)
    page, more = await changes_for(request.app[keys.STORAGE], store_id, after, int(limit_text))
    last = page[-1].cursor if page else after
    return web.Response(body=encode_changes(ChangePage(changes=tuple(page), last_cursor=last,
                                                       more=more)),
                        content_type=CONTENT_TYPE)


@routes.get(DIGEST_PATH)
async def digest(request: web.Request) -> web.Response:
    """Head office's digest of a store's events through ``through`` (count, per-kind counts and
    money sums, hash at that seq), for the nightly comparison."""
    store_id = await authenticate_store(request)
    through_text = request.query.get("through", "")
    if not through_text.isdigit():
        raise Problem(400, "through must be a seq (an integer >= 0)", field="through")
    result = await digest_through(request.app[keys.STORAGE], store_id, int(through_text))
    return web.Response(body=msgpack.packb({"v": 1, "type": "digest", **result.as_dict()}),
                        content_type=CONTENT_TYPE)


@routes.post(DIGEST_PATH)
async def digest_report(request: web.Request) -> web.Response:
    """The store's verdict after comparing digests; a mismatch is logged and shown."""
    store_id = await authenticate_store(request)
    try:
        report = msgpack.unpackb(await request.read(), raw=False)
        through, matches, found = report["through_seq"], report["matches"], report["differences"]
        if not isinstance(through, int) or not isinstance(matches, bool) or \
                not isinstance(found, list) or not all(isinstance(d, str) for d in found):
            raise TypeError(report)
    except (ValueError, TypeError, KeyError, msgpack.ExtraData):
        raise Problem(400, "a digest report is a msgpack map with through_seq (int), matches "
                           "(bool) and differences (list of strings)") from None
    await record_digest_report(request.app[keys.STORAGE], store_id, through, matches, found)
    return web.json_response({"recorded": True})


def _skew_s(request: web.Request, now: datetime) -> int | None:
    """Seconds the store's clock (its ``Date`` header) runs ahead of ours; None without one."""
    text = request.headers.get("Date")
    if not text:
        return None
    try:
        sent = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if sent.tzinfo is None:
        return None
    # Date has whole seconds, truncated: half a second corrects the bias.
    return round((sent - now).total_seconds() + 0.5)
