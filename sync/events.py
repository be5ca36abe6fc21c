"""Store events and the per-store hash chain that makes a ledger tamper-evident.

``hash = SHA-256(previous hash || canonical bytes of the event)``, hex-encoded. The canonical
bytes are the msgpack encoding of ``[store_id, seq, event_id, kind, recorded_at,
business_date, payload]`` with every map's keys sorted, so the agent and the server compute
the same hash from the same facts whatever order a dict was built in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgpack

from sync.errors import NotCanonical

GENESIS_HASH = "0" * 64

# The kinds of event a store records; the server accepts every kind it knows.
EVENT_KINDS: frozenset[str] = frozenset({
    "sale.completed", "sale.voided", "return.completed",
    "stock.received", "stock.adjusted", "stock.counted", "transfer.received",
    "transfer.shipped",
    "cash.session_opened", "cash.session_closed", "cash.paid_in", "cash.paid_out",
    "cash.no_sale", "time.punched", "business_day.closed",
})  # each has a payload schema in sync.schemas


@dataclass(frozen=True, slots=True)
class StoreEvent:
    """One fact in a store's ledger, as it travels to head office."""

    store_id: str
    seq: int
    event_id: str
    kind: str
    recorded_at: str
    business_date: str
    payload: dict[str, Any]
    hash: str

    def canonical_bytes(self) -> bytes:
        return canonical_event_bytes(self.store_id, self.seq, self.event_id, self.kind,
                                     self.recorded_at, self.business_date, self.payload)


class _NoStableForm(Exception):
    """Raised by the fast path; the slow path then finds and names the offending value."""


def canonical(value: Any, path: str = "payload") -> Any:
    """Return ``value`` with dict keys sorted recursively; refuse values with no stable form
    (:class:`NotCanonical` names where). A value already in canonical form (what a store
    sends) is returned as it is, after one walk that builds nothing."""
    try:
        if _is_canonical(value):
            return value
        return _fast_canonical(value)
    except _NoStableForm:
        return _named_canonical(value, path)


def _is_canonical(value: Any) -> bool:
    """True when ``value`` is already canonical; raises _NoStableForm for a value that can
    never be."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        previous = None
        ordered = True
        for key, item in value.items():
            if type(key) is not str:
                raise _NoStableForm
            if previous is not None and key < previous:
                ordered = False
            previous = key
            if not _is_canonical(item):
                ordered = False
        return ordered
    if kind is list:
        return all([_is_canonical(item) for item in value])
    if kind is tuple:  # canonical form uses lists
        for item in value:
            _is_canonical(item)
        return False
    raise _NoStableForm


def _fast_canonical(value: Any) -> Any:
    """:func:`canonical` without building a path for every value (every event's payload goes
    through here on both sides of the wire)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        for key in value:
            if type(key) is not str:
                raise _NoStableForm
        return {key: _fast_canonical(value[key]) for key in sorted(value)}
    if kind is list or kind is tuple:
        return [_fast_canonical(item) for item in value]
    raise _NoStableForm


def _named_canonical(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise NotCanonical(f"{path} key", key)
        return {key: _named_canonical(value[key], f"{path}.{key}") for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_named_canonical(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise NotCanonical(path, value)


def canonical_event_bytes(store_id: str, seq: int, event_id: str, kind: str, recorded_at: str,
                          business_date: str, payload: dict[str, Any],
                          payload_is_canonical: bool = False) -> bytes:
    """The bytes the hash chain covers for one event (``payload_is_canonical`` skips sorting a
    payload that :func:`canonical` already returned)."""
    body = [store_id, seq, event_id, kind, recorded_at, business_date,
            payload if payload_is_canonical else canonical(payload)]
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


def chain_hash(previous_hash: str, canonical_bytes: bytes) -> str:
    """The next link of the chain: SHA-256 over the previous hash and this event's bytes."""
    digest = hashlib.sha256()
    digest.update(bytes.fromhex(previous_hash))
    digest.update(canonical_bytes)
    return digest.hexdigest()


def first_broken_link(previous_hash: str, events: list[StoreEvent] | tuple[StoreEvent, ...],
                      payloads_are_canonical: bool = False) -> int | None:
    """The seq of the first event whose hash does not follow from its predecessor, or None.

    ``payloads_are_canonical`` skips re-sorting payloads that :func:`canonical` produced (as
    the push decoder's are)."""
    expected = previous_hash
    for event in events:
        data = canonical_event_bytes(event.store_id, event.seq, event.event_id, event.kind,
                                     event.recorded_at, event.business_date, event.payload,
                                     payload_is_canonical=payloads_are_canonical)
        if chain_hash(expected, data) != event.hash:
            return event.seq
        expected = event.hash
    return None
