"""Canonical payloads and the per-store hash chain: key order never matters, values without a
stable encoding are refused with their path, and any tampering breaks the chain at its seq."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.errors import NotCanonical, SyncContractError
from sync.events import (
    GENESIS_HASH,
    StoreEvent,
    canonical,
    canonical_event_bytes,
    chain_hash,
    first_broken_link,
)

NO_SALE = {"movement_id": "m-1", "session_id": "cs-1", "employee_id": "E7", "reason": "coins"}


def chain(count: int, previous: str = GENESIS_HASH, store_id: str = "S001") -> list[StoreEvent]:
    events = []
    for seq in range(1, count + 1):
        payload = {**NO_SALE, "movement_id": f"m-{seq}"}
        args = (store_id, seq, f"evt-{seq}", "cash.no_sale", f"2026-05-0{seq}T10:00:00Z",
                f"2026-05-0{seq}")
        digest = chain_hash(previous, canonical_event_bytes(*args, payload))
        events.append(StoreEvent(*args, payload, digest))
        previous = digest
    return events


# --- canonical ---------------------------------------------------------------------------


def test_canonical_sorts_keys_recursively() -> None:
    value = {"b": {"z": 1, "a": [{"y": None, "x": True}]}, "a": "text"}
    result = canonical(value)
    assert list(result) == ["a", "b"]
    assert list(result["b"]) == ["a", "z"]
    assert list(result["b"]["a"][0]) == ["x", "y"]
    assert result == value  # same content, only the order changed


def test_canonical_keeps_scalars_and_turns_tuples_into_lists() -> None:
    assert canonical(None) is None
    assert canonical(True) is True
    assert canonical(-(2**63)) == -(2**63)
    assert canonical("é") == "é"
    assert canonical((1, (2, "x"))) == [1, [2, "x"]]


def test_canonical_does_not_touch_its_input() -> None:
    value = {"b": 1, "a": 2}
    canonical(value)
    assert list(value) == ["b", "a"]


@pytest.mark.parametrize(("value", "path"), [
    ({"a": 1.5}, "payload.a"),
    ({"a": float("nan")}, "payload.a"),
    ({"a": [1, b"x"]}, "payload.a[1]"),
    ({"a": {"b": {3, 4}}}, "payload.a.b"),
    ({"a": frozenset()}, "payload.a"),
    ({"a": {1: "x"}}, "payload.a key"),
    ({"a": {None: "x"}}, "payload.a key"),
    ({"a": [{"b": [0.0]}]}, "payload.a[0].b[0]"),
    (1.0, "payload"),
    (bytearray(b"x"), "payload"),
])
def test_canonical_refuses_values_without_a_stable_form(value: Any, path: str) -> None:
    with pytest.raises(NotCanonical) as caught:
        canonical(value)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")
    assert isinstance(caught.value, SyncContractError) and isinstance(caught.value, TypeError)


def test_canonical_uses_the_path_it_is_given() -> None:
    with pytest.raises(NotCanonical) as caught:
        canonical({"w": 0.5}, "events[3].payload")
    assert caught.value.path == "events[3].payload.w"


@pytest.mark.parametrize("bad_key", [1, b"k", None])
def test_canonical_names_a_non_string_key_among_string_keys(bad_key: Any) -> None:
    with pytest.raises(NotCanonical) as caught:
        canonical({"a": {"x": 1, bad_key: 2}})
    assert caught.value.path == "payload.a key"


texts = st.text(max_size=8)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10)


@given(st.dictionaries(texts, json_like, max_size=5))
def test_canonical_bytes_ignore_insertion_order(payload: dict[str, Any]) -> None:
    reversed_payload = dict(reversed(list(payload.items())))
    args = ("S001", 1, "e", "cash.no_sale", "t", "2026-01-01")
    assert canonical_event_bytes(*args, payload) == canonical_event_bytes(*args, reversed_payload)
    assert canonical(canonical(payload)) == canonical(payload)


def test_canonical_event_bytes_are_the_msgpack_of_the_sorted_fields() -> None:
    data = canonical_event_bytes("S001", 5, "e5", "cash.no_sale", "t", "2026-01-01",
                                 {"b": 1, "a": 2})
    assert msgpack.unpackb(data) == ["S001", 5, "e5", "cash.no_sale", "t", "2026-01-01",
                                     {"a": 2, "b": 1}]
    assert data.endswith(msgpack.packb({"a": 2, "b": 1}))


def test_every_field_of_an_event_is_covered_by_its_bytes() -> None:
    base = ["S001", 5, "e5", "cash.no_sale", "t", "2026-01-01", {"a": 1}]
    reference = canonical_event_bytes(*base)  # type: ignore[arg-type]
    changes = ["S002", 6, "e6", "cash.paid_in", "u", "2026-01-02", {"a": 2}]
    for index, changed in enumerate(changes):
        altered = list(base)
        altered[index] = changed
        assert canonical_event_bytes(*altered) != reference, index  # type: ignore[arg-type]


def test_a_payload_already_canonical_is_not_sorted_again() -> None:
    unsorted = {"b": 1, "a": 2}
    args = ("S001", 1, "e", "cash.no_sale", "t", "2026-01-01")
    sorted_bytes = canonical_event_bytes(*args, unsorted)
    trusted = canonical_event_bytes(*args, unsorted, payload_is_canonical=True)
    assert trusted != sorted_bytes  # trusted as given: the caller promised it was sorted
    assert canonical_event_bytes(*args, canonical(unsorted), payload_is_canonical=True) == \
        sorted_bytes


# --- chain --------------------------------------------------------------------------------


def test_chain_hash_is_sha256_of_the_previous_hash_bytes_and_the_event_bytes() -> None:
    data = b"\x01\x02"
    expected = hashlib.sha256(bytes.fromhex("ab" * 32) + data).hexdigest()
    assert chain_hash("ab" * 32, data) == expected
    assert len(chain_hash(GENESIS_HASH, b"")) == 64
    assert chain_hash(GENESIS_HASH, data) != chain_hash("00" * 31 + "01", data)


def test_chain_hash_refuses_a_previous_hash_that_is_not_hex() -> None:
    with pytest.raises(ValueError):
        chain_hash("zz" * 32, b"")


def test_an_intact_chain_has_no_broken_link() -> None:
    events = chain(5)
    assert first_broken_link(GENESIS_HASH, events) is None
    assert first_broken_link(GENESIS_HASH, tuple(events)) is None
    assert first_broken_link(events[1].hash, events[2:]) is None
    assert first_broken_link(GENESIS_HASH, []) is None


def test_a_changed_payload_breaks_the_chain_at_that_event() -> None:
    events = chain(5)
    events[3] = dataclasses.replace(events[3], payload={**events[3].payload, "reason": "x"})
    assert first_broken_link(GENESIS_HASH, events) == 4


@pytest.mark.parametrize("field", ["store_id", "event_id", "kind", "recorded_at",
                                   "business_date"])
def test_a_changed_header_breaks_the_chain(field: str) -> None:
    events = chain(3)
    events[1] = dataclasses.replace(events[1], **{field: "tampered"})
    assert first_broken_link(GENESIS_HASH, events) == 2


def test_a_reordered_event_breaks_the_chain() -> None:
    events = chain(4)
    swapped = [events[0], events[2], events[1], events[3]]
    assert first_broken_link(GENESIS_HASH, swapped) == 3


def test_a_removed_event_breaks_the_chain_at_the_next_one() -> None:
    events = chain(4)
    assert first_broken_link(GENESIS_HASH, [events[0], events[2], events[3]]) == 3


def test_a_wrong_previous_hash_breaks_the_chain_at_the_first_event() -> None:
    events = chain(3)
    assert first_broken_link("11" * 32, events) == 1
    assert first_broken_link(events[0].hash, events[2:]) == 3


def test_a_forged_hash_breaks_the_chain() -> None:
    events = chain(3)
    events[2] = dataclasses.replace(events[2], hash="ff" * 32)
    assert first_broken_link(GENESIS_HASH, events) == 3


def test_a_rehashed_tampered_event_still_breaks_the_link_after_it() -> None:
    events = chain(3)
    forged_payload = {**events[1].payload, "reason": "forged"}
    forged = dataclasses.replace(events[1], payload=forged_payload, hash=chain_hash(
        events[0].hash, canonical_event_bytes("S001", 2, "evt-2", "cash.no_sale",
                                              "2026-05-02T10:00:00Z", "2026-05-02",
                                              forged_payload)))
    assert first_broken_link(GENESIS_HASH, [events[0], forged, events[2]]) == 3


def test_key_order_of_a_payload_does_not_break_the_chain() -> None:
    events = chain(2)
    reordered = dict(reversed(list(events[1].payload.items())))
    events[1] = dataclasses.replace(events[1], payload=reordered)
    assert first_broken_link(GENESIS_HASH, events) is None


def test_store_events_are_frozen() -> None:
    (event,) = chain(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.seq = 2  # type: ignore[misc]
    assert event.canonical_bytes() == canonical_event_bytes(
        event.store_id, event.seq, event.event_id, event.kind, event.recorded_at,
        event.business_date, event.payload)
