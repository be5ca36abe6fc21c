"""The agent's side of push: send unacknowledged events in bounded batches until none are left.

Events are marked acknowledged only from the server's answer (its high-water mark), so a lost
answer just means the same events go again, and the server skips them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial

import aiohttp
from sqlite_utils import Database

from backoffice.tls import client_ssl_context
from config import AgentSettings
from store_agent.clock import Clock, utc_text
from store_agent.errors import (
    HeadOfficeBusy,
    HeadOfficeUnreachable,
    SyncError,
    SyncRefused,
    SyncRejected,
)
from store_agent.ledger import (
    Ledger,
    events_after,
    record_ack,
    record_sync_failure,
    sync_state,
    write_transaction,
)
from store_agent.pull_client import pull_changes, retry_after_seconds
from sync import CONTENT_TYPE, PUSH_PATH, PushBatch, decode_push_ack, encode_push
from sync.errors import DecodeError

Progress = Callable[[int, int], None]  # (events sent so far, events pending at start)


@dataclass(frozen=True, slots=True)
class SyncResult:
    pushed: int
    batches: int
    high_water: int
    pulled: int = 0


async def push_pending(ledger: Ledger, settings: AgentSettings, clock: Clock,
                       session: aiohttp.ClientSession | None = None,
                       progress: Progress | None = None,
                       ssl_context: ssl.SSLContext | None = None) -> SyncResult:
    """Push every pending event to head office, then pull its changes; raise a
    :class:`SyncError` if it cannot."""
    own_session = session is None
    if session is None:
        timeout = aiohttp.ClientTimeout(total=settings.head_office.timeout_seconds)
        session = aiohttp.ClientSession(timeout=timeout)
    try:
        if ssl_context is None:
            ssl_context = client_ssl_context(settings.head_office.ca_file)
        pushed = await _push_all(ledger, settings, clock, session, progress, ssl_context)
        pulled = await pull_changes(ledger, settings, session, ssl_context,
                                    utc_text(clock.now()))
        return dataclasses.replace(pushed, pulled=pulled)
    except SyncError as exc:
        await ledger.run(partial(_record_failure, at=utc_text(clock.now()), error=str(exc)))
        raise
    finally:
        if own_session:
            await session.close()


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A batch ready to send: its encoded (maybe compressed) body and its seq range."""

    body: bytes
    compressed: bool
    count: int
    last_seq: int


def _prepare(db: Database, *, settings: AgentSettings, after_seq: int) -> _Prepared | None:
    """Read, encode and compress the batch after ``after_seq`` (on the ledger thread, so the
    next batch is made while the previous one is on the wire)."""
    events = events_after(db, settings.store.id, after_seq, settings.sync.batch_max_events,
                          settings.sync.batch_max_bytes)
    if not events:
        return None
    head_seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
    body = encode_push(PushBatch(store_id=settings.store.id, events=tuple(events),
                                 head_seq=head_seq))
    compressed = bool(settings.sync.compress_min_bytes) and \
        len(body) >= settings.sync.compress_min_bytes
    if compressed:
        body = gzip.compress(body, compresslevel=5)
    return _Prepared(body=body, compressed=compressed, count=len(events),
                     last_seq=events[-1].seq)


async def _push_all(ledger: Ledger, settings: AgentSettings, clock: Clock,
                    session: aiohttp.ClientSession, progress: Progress | None,
                    ssl_context: ssl.SSLContext | None) -> SyncResult:
    """Send batches in order, one in flight at a time (head office applies a store's batches
    in seq order), with the next batch prepared meanwhile."""
    store_id = settings.store.id
    url = settings.head_office.url.rstrip("/") + PUSH_PATH
    headers = {"Authorization": f"Bearer {settings.head_office.sync_token}",
               "Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
    state = await ledger.run(sync_state)
    total_pending = state.pending
    cursor = state.acked_seq
    pushed = batches = 0
    high_water = state.acked_seq

    def prepare(after: int) -> asyncio.Future[_Prepared | None]:
        return asyncio.ensure_future(ledger.run(partial(_prepare, settings=settings,
                                                        after_seq=after)))

    upcoming = prepare(cursor)
    try:
        while True:
            batch = await upcoming
            if batch is None:
                if batches == 0:
                    await ledger.run(partial(_acknowledge, high_water=high_water,
                                             last_hash=state.acked_hash,
                                             at=utc_text(clock.now())))
                return SyncResult(pushed=pushed, batches=batches, high_water=high_water)
            upcoming = prepare(batch.last_seq)  # assume success; redone if not
            # Date (RFC 9110) lets head office see this store's clock skew.
            send_headers = {**headers, "Date": format_datetime(clock.now(), usegmt=True)}
            if batch.compressed:
                send_headers["Content-Encoding"] = "gzip"
            status, answer, server_date, retry_after = await _post(
                session, url, batch.body, send_headers, ssl_context)
            if status == 200:
                try:
                    ack = decode_push_ack(answer)
                except DecodeError as exc:
                    raise SyncRejected(status, f"unreadable answer from head office: {exc}") \
                        from exc
                now = clock.now()
                await ledger.run(partial(_acknowledge, high_water=ack.high_water,
                                         last_hash=ack.last_hash, at=utc_text(now),
                                         skew=_skew_seconds(server_date, now)))
                pushed += max(0, ack.high_water - cursor)
                cursor = high_water = max(high_water, ack.high_water)
                batches += 1
                if progress:
                    progress(pushed, total_pending)
                if cursor != batch.last_seq:
                    upcoming.cancel()
                    upcoming = prepare(cursor)
                continue
            upcoming.cancel()
            detail = _problem_detail(answer)
            if status in (401, 403):
                raise SyncRefused(store_id, status, detail)
            if status in (502, 503, 504):  # busy or restarting: like unreachable, retry later
                raise HeadOfficeBusy(url, f"HTTP {status}: {detail}", retry_after)
            if status == 409:
                expected = _expected_seq(answer)
                if expected is not None and expected - 1 != cursor and \
                        expected - 1 <= batch.last_seq:
                    # Head office already holds more (an answer was lost): resume where it is.
                    cursor = expected - 1
                    upcoming = prepare(cursor)
                    continue
            raise SyncRejected(status, detail)
    finally:
        upcoming.cancel()


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str],
                ssl_context: ssl.SSLContext | None
                ) -> tuple[int, bytes, str | None, float | None]:
    try:
        async with session.post(url, data=body, headers=headers,
                                ssl=ssl_context if ssl_context is not None else True) as resp:
            return (resp.status, await resp.read(), resp.headers.get("Date"),
                    retry_after_seconds(resp.headers.get("Retry-After")))
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        raise HeadOfficeUnreachable(url, str(exc) or type(exc).__name__) from exc
    except aiohttp.ClientError as exc:
        raise HeadOfficeUnreachable(url, f"{type(exc).__name__}: {exc}") from exc


def _problem_detail(answer: bytes) -> str:
    try:
        body = json.loads(answer)
        return str(body.get("detail") or body.get("title") or answer[:200])
    except (ValueError, AttributeError):
        return answer[:200].decode("utf-8", "replace") or "no detail"


def _expected_seq(answer: bytes) -> int | None:
    try:
        value = json.loads(answer).get("expected_seq")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _acknowledge(db: Database, *, high_water: int, last_hash: str, at: str,
                 skew: int | None = None) -> None:
    with write_transaction(db):
        record_ack(db, high_water, last_hash, at)
        if skew is not None:
            db.execute("UPDATE sync_state SET clock_skew_seconds = ? WHERE id = 1", [skew])


def _skew_seconds(server_date: str | None, now: datetime) -> int | None:
    """Head office's clock minus ours, in whole seconds (HTTP dates have 1 s resolution)."""
    if not server_date:
        return None
    try:
        server_now = parsedate_to_datetime(server_date)
    except (TypeError, ValueError):
        return None
    return round((server_now - now).total_seconds())


def _record_failure(db: Database, *, at: str, error: str) -> None:
    with write_transaction(db):
        record_sync_failure(db, at, error)
