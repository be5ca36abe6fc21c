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


@migrations()
def m002_store_operations(db: Database) -> None:
    """Prices with effective times, tax rates, employees, stock, cash sessions, shifts,
    returns, business days and the print queue."""
    db.create_table("tax_rates", {"code": str, "rate": str, "name": str}, pk="code",
                    not_null=["rate", "name"], strict=True)
    db.create_table("prices", {"sku": str, "effective_at": str, "price_minor": int},
                    pk=("sku", "effective_at"), not_null=["price_minor"], strict=True)
    db.create_table(
        "employees",
        {"employee_id": str, "name": str, "role": str, "pin_hash": str, "active": int},
        pk="employee_id", not_null=["name", "role", "pin_hash", "active"], strict=True)
    db.create_table("stock", {"sku": str, "on_hand_milli": int}, pk="sku",
                    not_null=["on_hand_milli"], strict=True)
    db.create_table(
        "cash_sessions",
        {"session_id": str, "drawer_id": str, "terminal_id": str, "business_date": str,
         "opened_seq": int, "opened_at": str, "opened_by": str, "float_minor": int,
         "status": str, "closed_seq": int, "closed_at": str, "closed_by": str},
        pk="session_id",
        not_null=["drawer_id", "terminal_id", "business_date", "opened_seq", "opened_at",
                  "opened_by", "float_minor", "status"],
        strict=True)
    db.execute("CREATE UNIQUE INDEX one_open_session_per_drawer ON cash_sessions (drawer_id) "
               "WHERE status = 'open'")
    db.create_table(
        "cash_movements",
        {"seq": int, "session_id": str, "kind": str, "tender": str, "amount_minor": int},
        pk=("seq", "tender", "kind"), not_null=["session_id", "amount_minor"], strict=True)
    db.table("cash_movements").create_index(["session_id"])
    db.create_table("shifts", {"employee_id": str, "state": str, "since": str, "seq": int},
                    pk="employee_id", not_null=["state", "since", "seq"], strict=True)
    db.create_table(
        "sale_lines",
        {"sale_id": str, "line_no": int, "sku": str, "quantity_milli": int, "amount_minor": int,
         "tax_minor": int, "returned_milli": int},
        pk=("sale_id", "line_no"),
        not_null=["sku", "quantity_milli", "amount_minor", "tax_minor", "returned_milli"],
        strict=True)
    db.create_table("business_days", {"business_date": str, "status": str, "closed_seq": int},
                    pk="business_date", not_null=["status"], strict=True)
    db.create_table(
        "print_queue",
        {"job_id": int, "seq": int, "terminal_id": str, "kind": str, "document": str,
         "status": str, "attempts": int, "last_error": str, "created_at": str},
        pk="job_id", not_null=["seq", "terminal_id", "kind", "document", "status", "attempts",
                               "created_at"],
        strict=True)
    db.table("print_queue").create_index(["status"])
    # Answers already given to client-keyed requests (punches, cash movements, voids, returns,
    # stock operations), so that a retried request gets the same answer instead of acting twice.
    db.create_table("requests", {"request_key": str, "digest": str, "seq": int, "response": str},
                    pk="request_key", not_null=["digest", "seq", "response"], strict=True)
    for column, kind in (("session_id", str), ("status", str)):
        db.table("sales").add_column(column, kind)
    db.execute("UPDATE sales SET status = 'completed' WHERE status IS NULL")
    db.table("products").add_column("tax_code", str)
    db.table("sync_state").add_column("clock_skew_seconds", int)


@migrations()
def m003_pull_cursor(db: Database) -> None:
    """Where the store is in head office's change feed."""
    db.table("sync_state").add_column("pull_cursor", int, not_null_default=0)
    db.table("sync_state").add_column("last_pull_at", str)


@migrations()
def m004_digest_check(db: Database) -> None:
    """The last nightly comparison with head office."""
    for column in ("digest_checked_at", "digest_problems"):
        db.table("sync_state").add_column(column, str)
    db.table("sync_state").add_column("digest_through_seq", int)
    db.table("sync_state").add_column("digest_matches", int)


@migrations()
def m005_transfers(db: Database) -> None:
    """Transfers head office ordered to or from this store (pulled, head office's data) and
    how far each has got here (projected from this store's own events)."""
    db.create_table("transfers",
                    {"transfer_id": str, "direction": str, "other_store_id": str,
                     "lines": str, "note": str},
                    pk="transfer_id", not_null=["direction", "other_store_id", "lines"],
                    strict=True)
    db.create_table("transfer_progress",
                    {"transfer_id": str, "shipped_seq": int, "received_seq": int},
                    pk="transfer_id", strict=True)
