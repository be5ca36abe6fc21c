"""The ledger's schema history, applied with ``sqlite_utils.Migrations`` at every start.

Tables are STRICT and money columns INTEGER. The event log is append-only: triggers refuse
UPDATE and DELETE on it, so no code path can rewrite a recorded fact.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("store_ledger")


@migrations()
def m001_event_log_and_sales(db: Database) -> None:
    db.create_table("ledger_meta", {"key": str, "value": str}, pk="key", not_null=["value"],
                    strict=True)
    db.create_table(
        "events",
        {"seq": int, "event_id": str, "kind": str, "recorded_at": str, "business_date": str,
         "payload": str, "hash": str},
        pk="seq",
        not_null=["event_id", "kind", "recorded_at", "business_date", "payload", "hash"],
        strict=True,
    )
    db.table("events").create_index(["event_id"], unique=True)
    db.table("events").create_index(["kind", "business_date"])
    db.executescript("""
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    """)
    db.create_table(
        "sync_state",
        {"id": int, "acked_seq": int, "acked_hash": str, "last_attempt_at": str,
         "last_success_at": str, "last_error": str},
        pk="id", not_null=["acked_seq", "acked_hash"], strict=True,
    )
    db.create_table("products",
                    {"sku": str, "name": str, "price_minor": int, "tax_rate": str},
                    pk="sku", not_null=["name", "price_minor", "tax_rate"], strict=True)
    db.create_table("barcodes", {"barcode": str, "sku": str}, pk="barcode", not_null=["sku"],
                    foreign_keys=[("sku", "products", "sku")], strict=True)
    db.table("barcodes").create_index(["sku"])
    db.create_table(
        "sales",
        {"sale_id": str, "seq": int, "terminal_id": str, "receipt_no": int,
         "business_date": str, "cashier": str, "total_minor": int, "tax_minor": int,
         "request_digest": str, "response": str},
        pk="sale_id",
        not_null=["seq", "terminal_id", "receipt_no", "business_date", "cashier", "total_minor",
                  "tax_minor", "request_digest", "response"],
        strict=True,
    )
    db.table("sales").create_index(["terminal_id", "receipt_no"], unique=True)
    db.table("sales").create_index(["business_date"])
    db.create_table("receipt_counters", {"terminal_id": str, "last_no": int},
                    pk="terminal_id", not_null=["last_no"], strict=True)
