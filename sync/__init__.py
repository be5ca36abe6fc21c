"""The contract between store agents and head office: events, hash chain, msgpack messages."""

from sync.codec import (
    ACCEPTED_VERSIONS,
    CONTENT_TYPE,
    DIGEST_PATH,
    PROTOCOL_VERSION,
    PULL_PATH,
    PUSH_PATH,
    Change,
    ChangePage,
    PushAck,
    PushBatch,
    decode_changes,
    decode_push,
    decode_push_ack,
    encode_changes,
    encode_push,
    encode_push_ack,
)
from sync.errors import DecodeError, SyncContractError, UnsupportedVersion
from sync.events import GENESIS_HASH, StoreEvent, chain_hash, first_broken_link

__all__ = [
    "ACCEPTED_VERSIONS",
    "CONTENT_TYPE",
    "DIGEST_PATH",
    "GENESIS_HASH",
    "PROTOCOL_VERSION",
    "PULL_PATH",
    "PUSH_PATH",
    "Change",
    "ChangePage",
    "DecodeError",
    "PushAck",
    "PushBatch",
    "StoreEvent",
    "SyncContractError",
    "UnsupportedVersion",
    "chain_hash",
    "decode_changes",
    "decode_push",
    "decode_push_ack",
    "encode_changes",
    "encode_push",
    "encode_push_ack",
    "first_broken_link",
]
