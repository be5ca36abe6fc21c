"""The store's SQLite ledger: event log with hash chain, projections, one writer."""

from store_agent.ledger.database import (
    Ledger,
    connect,
    create_ledger,
    open_ledger,
    write_transaction,
)
from store_agent.ledger.eventlog import (
    SyncState,
    append_event,
    events_after,
    record_ack,
    record_sync_failure,
    sync_state,
)

__all__ = [
    "Ledger",
    "SyncState",
    "append_event",
    "connect",
    "create_ledger",
    "events_after",
    "open_ledger",
    "record_ack",
    "record_sync_failure",
    "sync_state",
    "write_transaction",
]
