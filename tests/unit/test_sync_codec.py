"""The wire contract: golden bytes, round trips, the hash chain, and strict decoding that
names the field it refuses."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import (
    ACCEPTED_VERSIONS,
    PROTOCOL_VERSION,
    DecodeError,
    PushAck,
    PushBatch,
    StoreEvent,
    UnsupportedVersion,
    decode_push,
    decode_push_ack,
    encode_push,
    encode_push_ack,
    first_broken_link,
)
from sync.errors import NotCanonical
from sync.events import GENESIS_HASH, canonical, canonical_event_bytes, chain_hash

PUNCH = {"punch_id": "punch-0001", "employee_id": "E100", "action": "in",
         "state_before": "off", "state_after": "working"}
# Pinned wire format of one push batch. If this changes, the bytes on the wire changed:
# bump PROTOCOL_VERSION and keep accepting the previous one (docs/sync-protocol.md).
GOLDEN_PUSH = (
    "84a17601a474797065a470757368a873746f72655f6964a453303031a66576656e7473919701d9243030303030"
    "3030302d303030302d343030302d383030302d303030303030303030303031ac74696d652e70756e63686564bb"
    "323032362d31312d32345430393a30303a30302e3030303030305aaa323032362d31312d323485a870756e6368"
    "5f6964aa70756e63682d30303031ab656d706c6f7965655f6964a445313030a6616374696f6ea2696eac737461"
    "74655f6265666f7265a36f6666ab73746174655f6166746572a7776f726b696e67d940653938613966336538"
    "61633531613366386330393331326434613437316666323632633336373530373038623364613363326165343864"
    "653534373765656633"
)


def chained(payloads: list[tuple[str, dict[str, Any]]], store_id: str = "S001",
            first_seq: int = 1, previous: str = GENESIS_HASH) -> list[StoreEvent]:
    events = []
    for offset, (kind, payload) in enumerate(payloads):
        seq = first_seq + offset
        event_id = f"00000000-0000-4000-8000-{seq:012d}"
        digest = chain_hash(previous, canonical_event_bytes(
            store_id, seq, event_id, kind, "2026-11-24T09:00:00.000000Z", "2026-11-24", payload))
        events.append(StoreEvent(store_id, seq, event_id, kind, "2026-11-24T09:00:00.000000Z",
                                 "2026-11-24", payload, digest))
        previous = digest
    return events


def test_golden_bytes_pin_the_wire_format() -> None:
    (event,) = chained([("time.punched", PUNCH)])
    assert event.hash == "e98a9f3e8ac51a3f8c09312d4a471ff262c36750708b3da3c2ae48de5477eef3"
    assert encode_push(PushBatch("S001", (event,))).hex() == GOLDEN_PUSH
    assert decode_push(bytes.fromhex(GOLDEN_PUSH), max_events=10) == PushBatch("S001", (event,))


def test_versions_accepted_are_the_current_and_the_previous() -> None:
    assert PROTOCOL_VERSION in ACCEPTED_VERSIONS
    assert set(ACCEPTED_VERSIONS) <= {PROTOCOL_VERSION - 1, PROTOCOL_VERSION}
    message = msgpack.unpackb(bytes.fromhex(GOLDEN_PUSH))
    for version in (0, PROTOCOL_VERSION + 1, "1", None, True):
        message["v"] = version
        with pytest.raises(UnsupportedVersion) as caught:
            decode_push(msgpack.packb(message), max_events=10)
        assert caught.value.field == "v"


texts = st.text(max_size=20)
payload_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12)


@given(st.dictionaries(texts, payload_values, max_size=6), st.integers(1, 10**9))
def test_round_trip_and_hash_are_stable(extra: dict[str, Any], seq: int) -> None:
    payload = {**extra, **PUNCH}
    (event,) = chained([("time.punched", payload)], first_seq=seq)
    decoded = decode_push(encode_push(PushBatch("S001", (event,))), max_events=1)
    assert decoded.events[0] == event
    # Key order never changes the hash: canonical bytes sort maps.
    reordered = dict(reversed(list(payload.items())))
    assert canonical_event_bytes("S001", seq, event.event_id, event.kind, event.recorded_at,
                                 event.business_date, reordered) == event.canonical_bytes()


@given(st.integers(0, 2**63 - 1), st.text(max_size=64))
def test_ack_round_trip(high_water: int, _noise: str) -> None:
    ack = PushAck(high_water=high_water, last_hash="ab" * 32, applied=3)
    assert decode_push_ack(encode_push_ack(ack)) == ack


def test_canonical_refuses_values_without_a_stable_form() -> None:
    for bad, where in (({"a": 1.5}, "payload.a"), ({"a": [b"x"]}, "payload.a[0]"),
                       ({"a": {1: "x"}}, "payload.a key"), ({"a": {1, 2}}, "payload.a")):
        with pytest.raises(NotCanonical) as caught:
            canonical(bad)
        assert str(caught.value).startswith(where)


def test_the_chain_finds_the_first_altered_event() -> None:
    events = chained([("time.punched", PUNCH)] * 4)
    assert first_broken_link(GENESIS_HASH, events) is None
    altered = list(events)
    altered[2] = dataclasses.replace(altered[2], payload={**PUNCH, "action": "out"})
    assert first_broken_link(GENESIS_HASH, altered) == 3
    assert first_broken_link(GENESIS_HASH, [events[1], events[0]]) == 2
    assert first_broken_link("11" * 32, events) == 1


def _push(events: list[dict[str, Any]] | Any, **message: Any) -> bytes:
    body = {"v": PROTOCOL_VERSION, "type": "push", "store_id": "S001", "events": events}
    body.update(message)
    return msgpack.packb(body)


def _raw(event: StoreEvent) -> list[Any]:
    return [event.seq, event.event_id, event.kind, event.recorded_at, event.business_date,
            copy.deepcopy(event.payload), event.hash]


SALE = {"sale_id": "s-00000001", "terminal_id": "T1", "receipt_no": 1, "cashier": "E1",
        "currency": "USD", "lines": [{"sku": "1001", "name": "Milk", "quantity": "2",
                                      "unit_price": 129, "amount": 258, "tax_rate": "7"}],
        "taxes": [{"rate": "7", "taxable": 258, "tax": 18}], "subtotal": 258, "tax": 18,
        "total": 276, "tenders": [{"type": "cash", "amount": 500}], "change_due": 224}


def _sale_with(path: tuple[Any, ...], value: Any) -> list[Any]:
    raw = _raw(chained([("sale.completed", SALE)])[0])
    target = raw[5]
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


@pytest.mark.parametrize(("data", "field"), [
    (b"\xc1", "body"),
    (msgpack.packb([1, 2]), "body"),
    (_push([], type="pull"), "type"),
    (_push([], store_id=""), "store_id"),
    (_push([], store_id="S" * 65), "store_id"),
    (_push("nope"), "events"),
    (_push([[1, 2, 3]]), "events[0]"),
    (_push([[0, *(_raw(chained([("time.punched", PUNCH)])[0])[1:])]]), "events[0].seq"),
    (_push([[True, *(_raw(chained([("time.punched", PUNCH)])[0])[1:])]]), "events[0].seq"),
    (_push([[1, "e", "sale.refunded", "t", "2026-11-24", {}, "0" * 64]]), "events[0].kind"),
    (_push([[1, "e", "time.punched", "t", "2026-11-24", [], "0" * 64]]), "events[0].payload"),
    (_push([[1, "e", "time.punched", "t", "2026-11-24", PUNCH, "zz" * 32]]), "events[0].hash"),
    (_push([[1, "e", "time.punched", "t", "2026-11-24", PUNCH, "0" * 63]]), "events[0].hash"),
    (_push([_sale_with(("lines", 0, "amount"), "2.58")]), "events[0].payload.lines[0].amount"),
    (_push([_sale_with(("lines", 0, "quantity"), 1.5)]), "events[0].payload.lines[0].quantity"),
    (_push([_sale_with(("total",), KeyError)]), "events[0].payload.total"),
    (_push([_sale_with(("tenders", 0, "type"), "iou")]), "events[0].payload.tenders[0].type"),
    (_push([_sale_with(("cashier",), "E" * 65)]), "events[0].payload.cashier"),
    (_push([_sale_with(("total",), 2**63)]), "events[0].payload.total"),
])
def test_strict_decoding_names_the_field(data: bytes, field: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_push(data, max_events=10)
    assert caught.value.field == field, str(caught.value)


def test_batches_are_bounded_and_consecutive() -> None:
    events = chained([("time.punched", PUNCH)] * 3)
    with pytest.raises(DecodeError, match="limit is 2"):
        decode_push(encode_push(PushBatch("S001", tuple(events))), max_events=2)
    gap = [_raw(events[0]), _raw(events[2])]
    with pytest.raises(DecodeError) as caught:
        decode_push(_push(gap), max_events=10)
    assert caught.value.field == "events[1].seq"


def test_a_float_anywhere_in_a_payload_is_refused_at_decode() -> None:
    raw = _raw(chained([("time.punched", PUNCH)])[0])
    raw[5]["extra"] = {"weight": 1.5}
    with pytest.raises(DecodeError) as caught:
        decode_push(_push([raw]), max_events=10)
    assert caught.value.field == "events[0].payload"
    assert "float values are not allowed" in str(caught.value)


def test_unknown_payload_fields_are_kept_for_newer_agents() -> None:
    (event,) = chained([("time.punched", {**PUNCH, "geo": "store floor"})])
    decoded = decode_push(encode_push(PushBatch("S001", (event,))), max_events=1)
    assert decoded.events[0].payload["geo"] == "store floor"
