"""Appending to the event log and reading it back for sync. Call inside a write transaction.

Every append takes the next seq and extends the hash chain from the last event, so a ledger
is gap-free and tamper-evident by construction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlite_utils import Database

from sync.events import GENESIS_HASH, StoreEvent, canonical, canonical_event_bytes, chain_hash


@dataclass(frozen=True, slots=True)
class SyncState:
    acked_seq: int
    acked_hash: str
    last_seq: int
    last_attempt_at: str | None
    last_success_at: str | None
    last_error: str | None

    @property
    def pending(self) -> int:
        return self.last_seq - self.acked_seq


def append_event(db: Database, store_id: str, kind: str, payload: dict[str, Any],
                 recorded_at: str, business_date: str) -> StoreEvent:
    """Append one event at the next seq; the caller holds the write transaction."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    seq, previous = (1, GENESIS_HASH) if row is None else (row[0] + 1, row[1])
    event_id = str(uuid.uuid4())
    body = canonical(payload)
    digest = chain_hash(previous, canonical_event_bytes(store_id, seq, event_id, kind,
                                                        recorded_at, business_date, body,
                                                        payload_is_canonical=True))
    db.execute(
        "INSERT INTO events (seq, event_id, kind, recorded_at, business_date, payload, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [seq, event_id, kind, recorded_at, business_date,
         orjson.dumps(body).decode(), digest],
    )
    return StoreEvent(store_id=store_id, seq=seq, event_id=event_id, kind=kind,
                      recorded_at=recorded_at, business_date=business_date, payload=body,
                      hash=digest)


def events_after(db: Database, store_id: str, after_seq: int, max_events: int,
                 max_bytes: int) -> list[StoreEvent]:
    """Events with seq > ``after_seq``, in order, bounded by count and payload bytes.

    At least one event is returned when any is pending, even one larger than ``max_bytes``,
    so a big event can never block the queue.
    """
    rows = db.execute(
        "SELECT seq, event_id, kind, recorded_at, business_date, payload, hash FROM events "
        "WHERE seq > ? ORDER BY seq LIMIT ?", [after_seq, max_events]).fetchall()
    out: list[StoreEvent] = []
    size = 0
    for seq, event_id, kind, recorded_at, business_date, payload, digest in rows:
        size += len(payload) + 200
        if out and size > max_bytes:
            break
        out.append(StoreEvent(store_id=store_id, seq=seq, event_id=event_id, kind=kind,
                              recorded_at=recorded_at, business_date=business_date,
                              payload=orjson.loads(payload), hash=digest))
    return out


def sync_state(db: Database) -> SyncState:
    row = db.execute("SELECT acked_seq, acked_hash, last_attempt_at, last_success_at, "
                     "last_error FROM sync_state WHERE id = 1").fetchone()
    last = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
    return SyncState(acked_seq=row[0], acked_hash=row[1], last_seq=last,
                     last_attempt_at=row[2], last_success_at=row[3], last_error=row[4])


def record_ack(db: Database, high_water: int, last_hash: str, at: str) -> None:
    """Mark events up to ``high_water`` acknowledged, only ever forwards."""
    db.execute(
        "UPDATE sync_state SET acked_seq = MAX(acked_seq, ?), "
        "acked_hash = CASE WHEN ? > acked_seq THEN ? ELSE acked_hash END, "
        "last_attempt_at = ?, last_success_at = ?, last_error = NULL WHERE id = 1",
        [high_water, high_water, last_hash, at, at])


def record_sync_failure(db: Database, at: str, error: str) -> None:
    db.execute("UPDATE sync_state SET last_attempt_at = ?, last_error = ? WHERE id = 1",
               [at, error])
