"""msgpack encoding of the sync messages, with strict decoding.

Decoding never trusts its input: an unknown message type, a missing or mistyped field, or an
oversized value raises :class:`sync.errors.DecodeError` naming the field, before anything is
applied. The wire layout of every message is written down in ``docs/sync-protocol.md``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgpack

from sync.errors import DecodeError, NotCanonical, UnsupportedVersion
from sync.events import EVENT_KINDS, StoreEvent, canonical
from sync.schemas import CHANGE_SCHEMAS, check_payload

PROTOCOL_VERSION = 1
# The current version and the one before it (there is none before 1).
ACCEPTED_VERSIONS: tuple[int, ...] = tuple(v for v in (PROTOCOL_VERSION - 1, PROTOCOL_VERSION)
                                           if v >= 1)
CONTENT_TYPE = "application/x-msgpack"
PUSH_PATH = "/sync/v1/push"
PULL_PATH = "/sync/v1/pull"
DIGEST_PATH = "/sync/v1/digest"

MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 64
MAX_PAYLOAD_BYTES = 256 * 1024
_EVENT_FIELDS = ("seq", "event_id", "kind", "recorded_at", "business_date", "payload", "hash")


@dataclass(frozen=True, slots=True)
class PushBatch:
    """Store -> server: events of one store, in seq order."""

    store_id: str
    events: tuple[StoreEvent, ...]
    version: int = PROTOCOL_VERSION
    head_seq: int | None = None  # the store's newest seq when sent (optional: backlog report)


@dataclass(frozen=True, slots=True)
class PushAck:
    """Server -> store: the store's high-water mark after applying a batch."""

    high_water: int
    last_hash: str
    applied: int
    version: int = PROTOCOL_VERSION


def encode_push(batch: PushBatch) -> bytes:
    """Encode a push batch; events travel as arrays in the order of ``_EVENT_FIELDS``."""
    message = {
        "v": batch.version,
        "type": "push",
        "store_id": batch.store_id,
        "events": [
            [e.seq, e.event_id, e.kind, e.recorded_at, e.business_date, e.payload, e.hash]
            for e in batch.events
        ],
    }
    if batch.head_seq is not None:
        message["head_seq"] = batch.head_seq
    packed: bytes = msgpack.packb(message, use_bin_type=True)
    return packed


def decode_push(data: bytes, *, max_events: int) -> PushBatch:
    """Decode and validate a push batch; raise :class:`DecodeError` on any defect."""
    message = _unpack(data)
    version = _version(message)
    _expect_type(message, "push")
    store_id = _text(message, "store_id", MAX_ID_LENGTH)
    raw_events = message.get("events")
    if not isinstance(raw_events, list):
        raise DecodeError("events", "missing or not an array")
    if len(raw_events) > max_events:
        raise DecodeError("events", f"{len(raw_events)} events in one batch; the limit is "
                                    f"{max_events}")
    events = tuple(_decode_event(store_id, index, raw) for index, raw in enumerate(raw_events))
    for index, (previous, current) in enumerate(itertools.pairwise(events), start=1):
        if current.seq != previous.seq + 1:
            raise DecodeError(f"events[{index}].seq",
                              f"seq {current.seq} follows {previous.seq}; a batch must be "
                              "consecutive")
    head_seq = message.get("head_seq")
    if head_seq is not None and (not _is_int(head_seq) or head_seq < 0):
        raise DecodeError("head_seq", "must be a non-negative integer when present")
    if head_seq is not None and events and head_seq < events[-1].seq:
        raise DecodeError("head_seq", f"{head_seq} is below the batch's last seq "
                                      f"{events[-1].seq}")
    return PushBatch(store_id=store_id, events=events, version=version, head_seq=head_seq)


def encode_push_ack(ack: PushAck) -> bytes:
    packed: bytes = msgpack.packb({"v": ack.version, "type": "push_ack",
                                   "high_water": ack.high_water, "last_hash": ack.last_hash,
                                   "applied": ack.applied}, use_bin_type=True)
    return packed


def decode_push_ack(data: bytes) -> PushAck:
    message = _unpack(data)
    version = _version(message)
    _expect_type(message, "push_ack")
    high_water = message.get("high_water")
    applied = message.get("applied")
    if not isinstance(high_water, int) or isinstance(high_water, bool) or high_water < 0:
        raise DecodeError("high_water", "missing or not a non-negative integer")
    if not isinstance(applied, int) or isinstance(applied, bool) or applied < 0:
        raise DecodeError("applied", "missing or not a non-negative integer")
    return PushAck(high_water=high_water, last_hash=_hash(message.get("last_hash"), "last_hash"),
                   applied=applied, version=version)


def _decode_event(store_id: str, index: int, raw: Any) -> StoreEvent:
    where = f"events[{index}]"
    if not isinstance(raw, list) or len(raw) != len(_EVENT_FIELDS):
        raise DecodeError(where, f"must be an array of {len(_EVENT_FIELDS)} fields "
                                 f"({', '.join(_EVENT_FIELDS)})")
    seq, event_id, kind, recorded_at, business_date, payload, hash_ = raw
    if not _is_int(seq) or seq < 1:
        raise DecodeError(f"{where}.seq", "must be a positive integer")
    for name, value in (("event_id", event_id), ("recorded_at", recorded_at),
                        ("business_date", business_date)):
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT_LENGTH:
            raise DecodeError(f"{where}.{name}", f"must be a non-empty string of at most "
                                                 f"{MAX_TEXT_LENGTH} characters")
    try:
        date.fromisoformat(business_date)
    except ValueError:
        raise DecodeError(f"{where}.business_date",
                          f"{business_date!r} is not a date YYYY-MM-DD") from None
    if kind not in EVENT_KINDS:
        raise DecodeError(f"{where}.kind", f"unknown event kind {kind!r}")
    check_payload(kind, payload, f"{where}.payload")
    try:
        # Sorted once here, so that the server's chain check need not walk it again.
        payload = canonical(payload, f"{where}.payload")
    except NotCanonical as exc:
        raise DecodeError(f"{where}.payload", str(exc)) from None
    return StoreEvent(store_id=store_id, seq=seq, event_id=event_id, kind=kind,
                      recorded_at=recorded_at, business_date=business_date, payload=payload,
                      hash=_hash(hash_, f"{where}.hash"))


def _unpack(data: bytes) -> dict[str, Any]:
    try:
        message = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True,
                                  max_str_len=MAX_PAYLOAD_BYTES, max_bin_len=MAX_PAYLOAD_BYTES)
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError,
            TypeError) as exc:
        raise DecodeError("body", f"not a valid msgpack message ({exc})") from None
    if not isinstance(message, dict):
        raise DecodeError("body", "must be a msgpack map")
    return message


def _version(message: dict[str, Any]) -> int:
    version = message.get("v")
    if version not in ACCEPTED_VERSIONS or not _is_int(version):
        raise UnsupportedVersion(version, ACCEPTED_VERSIONS)
    return int(version)


def _expect_type(message: dict[str, Any], expected: str) -> None:
    if message.get("type") != expected:
        raise DecodeError("type", f"expected a {expected!r} message, got {message.get('type')!r}")


def _text(message: dict[str, Any], field: str, max_length: int) -> str:
    value = message.get(field)
    if not isinstance(value, str) or not value:
        raise DecodeError(field, "missing or not a non-empty string")
    if len(value) > max_length:
        raise DecodeError(field, f"longer than {max_length} characters")
    return value


def _hash(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) != 64:
        raise DecodeError(field, "must be a 64-character hex SHA-256 digest")
    try:
        bytes.fromhex(value)
    except ValueError:
        raise DecodeError(field, "must be a 64-character hex SHA-256 digest") from None
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Change:
    """One head-office change for a store: ``cursor`` orders them, ``kind`` says what."""

    cursor: int
    kind: str
    key: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChangePage:
    """Server -> store: changes after the store's cursor, in order; ``more`` when cut short."""

    changes: tuple[Change, ...]
    last_cursor: int
    more: bool
    version: int = PROTOCOL_VERSION


def encode_changes(page: ChangePage) -> bytes:
    packed: bytes = msgpack.packb({
        "v": page.version, "type": "changes", "last_cursor": page.last_cursor,
        "more": page.more,
        "changes": [[c.cursor, c.kind, c.key, c.payload] for c in page.changes]},
        use_bin_type=True)
    return packed


def decode_changes(data: bytes) -> ChangePage:
    """Decode and validate a page of changes; raise :class:`DecodeError` on any defect."""
    message = _unpack(data)
    version = _version(message)
    _expect_type(message, "changes")
    last_cursor, more, raw = message.get("last_cursor"), message.get("more"), message.get("changes")
    if not isinstance(last_cursor, int) or isinstance(last_cursor, bool) or last_cursor < 0:
        raise DecodeError("last_cursor", "missing or not a non-negative integer")
    if not isinstance(more, bool):
        raise DecodeError("more", "missing or not a boolean")
    if not isinstance(raw, list):
        raise DecodeError("changes", "missing or not an array")
    changes = []
    previous = -1
    for index, item in enumerate(raw):
        where = f"changes[{index}]"
        if not isinstance(item, list) or len(item) != 4:
            raise DecodeError(where, "must be [cursor, kind, key, payload]")
        cursor, kind, key, payload = item
        if not _is_int(cursor) or cursor <= previous:
            raise DecodeError(f"{where}.cursor", "must be an integer above the previous one")
        if kind not in CHANGE_SCHEMAS:
            raise DecodeError(f"{where}.kind", f"unknown change kind {kind!r}")
        if not isinstance(key, str) or not key or len(key) > MAX_ID_LENGTH:
            raise DecodeError(f"{where}.key", "must be a non-empty string")
        CHANGE_SCHEMAS[kind].check(payload, f"{where}.payload")
        changes.append(Change(cursor=cursor, kind=kind, key=key, payload=payload))
        previous = cursor
    return ChangePage(changes=tuple(changes), last_cursor=last_cursor, more=more,
                      version=version)
