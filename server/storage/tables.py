"""The central schema as SQLAlchemy Core tables. Alembic migrations in ``migrations/`` build
exactly this (a test compares them). Money is BIGINT minor units; quantities are integer
thousandths (``quantity_milli``) so that no engine ever sees a float or needs a NUMERIC.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("high_water", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    # What the store last told about itself: its newest seq and its clock's offset from ours.
    sa.Column("head_seq", sa.BigInteger),
    sa.Column("clock_skew_s", sa.Integer),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

store_events = sa.Table(
    "store_events", metadata,
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("recorded_at", sa.String(64), nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("payload", JsonDoc, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

sales = sa.Table(
    "sales", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("sale_id", sa.String(64), nullable=False, unique=True),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("terminal_id", sa.String(32), nullable=False),
    sa.Column("receipt_no", sa.BigInteger, nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.String(64), nullable=False),
    sa.Column("cashier", sa.String(32), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("subtotal_minor", sa.BigInteger, nullable=False),
    sa.Column("tax_minor", sa.BigInteger, nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("change_due_minor", sa.BigInteger, nullable=False),
    sa.Column("line_count", sa.Integer, nullable=False),
    sa.Column("local_hour", sa.SmallInteger),  # 0-23 in the store's time zone, for reports
    sa.Index("ix_sales_store_date", "store_id", "business_date"),
    # Reports over a date range for every store (by product, tender, hour) start here.
    sa.Index("ix_sales_business_date", "business_date"),
)

sale_lines = sa.Table(
    "sale_lines", metadata,
    sa.Column("sale_row", sa.BigInteger, sa.ForeignKey("sales.id"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("quantity_milli", sa.BigInteger, nullable=False),
    sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("tax_rate", sa.String(16), nullable=False),
)

sale_tenders = sa.Table(
    "sale_tenders", metadata,
    sa.Column("sale_row", sa.BigInteger, sa.ForeignKey("sales.id"), primary_key=True),
    sa.Column("tender_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("reference", sa.String(64), nullable=False),
    # What the tender really brought in: the amount, less the change given on the sale's
    # first cash tender. Sums per tender type are then the money in each drawer or account.
    sa.Column("net_minor", sa.BigInteger),
)

# Head-office-owned data (the catalog, employees) and the outbox that carries every change to
# the stores: one row per change, in cursor order, scoped to all stores ('*') or one store.
catalog_products = sa.Table(
    "catalog_products", metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("price_minor", sa.BigInteger, nullable=False),
    sa.Column("tax_rate", sa.String(16), nullable=False),
    sa.Column("barcodes", JsonDoc, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cost_minor", sa.BigInteger),  # standard unit cost, for stock valuation
    sa.Column("reorder_level_milli", sa.BigInteger),  # low-stock threshold per store
)

catalog_prices = sa.Table(
    "catalog_prices", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("sku", sa.String(64), sa.ForeignKey("catalog_products.sku"), nullable=False),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id")),
    sa.Column("effective_at", sa.String(32), nullable=False),
    sa.Column("price_minor", sa.BigInteger, nullable=False),
)

changes = sa.Table(
    "changes", metadata,
    sa.Column("cursor", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("scope", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("payload", JsonDoc, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_changes_scope_cursor", "scope", "cursor"),
)

# Business problems found in authentic events: filed for head office, never a blocked queue.
reconciliation_items = sa.Table(
    "reconciliation_items", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("detail", JsonDoc, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_by", sa.String(200)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolution", sa.String(500)),
    sa.Index("ix_reconciliation_items_status", "status", "id"),
)

# The last nightly digest comparison a store reported.
store_digests = sa.Table(
    "store_digests", metadata,
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), primary_key=True),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("through_seq", sa.BigInteger, nullable=False),
    sa.Column("matches", sa.Boolean, nullable=False),
    sa.Column("differences", JsonDoc, nullable=False),
)

# Head-office master data that the change outbox publishes: kept as current rows so that the
# API can list them and the audit log can show what a change replaced.
tax_rates = sa.Table(
    "tax_rates", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("rate", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

employees = sa.Table(
    "employees", metadata,
    sa.Column("employee_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("pin_hash", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Every head-office change: who (token name and role), what (action and target), when, and the
# state before and after (secrets such as PINs and tokens never appear, only that they changed).
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("actor_role", sa.String(32), nullable=False),
    sa.Column("actor_token_id", sa.Integer),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("before", JsonDoc),
    sa.Column("after", JsonDoc),
    sa.Index("ix_audit_log_target", "target", "id"),
)

# --- store activity beyond sales, projected from the raw events at ingest -----------------

RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

# Sales per store and business day, kept in the ingest transaction (late events included), so
# the daily report reads thousands of rows, not millions of lines, and is never stale.
sales_daily = sa.Table(
    "sales_daily", metadata,
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), primary_key=True),
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("sales_count", sa.BigInteger, nullable=False),
    sa.Column("subtotal_minor", sa.BigInteger, nullable=False),
    sa.Column("tax_minor", sa.BigInteger, nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("voids_count", sa.BigInteger, nullable=False),
    sa.Column("voids_minor", sa.BigInteger, nullable=False),
    sa.Column("returns_count", sa.BigInteger, nullable=False),
    sa.Column("returns_minor", sa.BigInteger, nullable=False),
)

sale_voids = sa.Table(
    "sale_voids", metadata,
    sa.Column("sale_id", sa.String(64), primary_key=True),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("reason", sa.String(256), nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
)

returns = sa.Table(
    "returns", metadata,
    sa.Column("return_id", sa.String(64), primary_key=True),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("original_sale_id", sa.String(64)),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("receipt_no", sa.BigInteger, nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("tax_minor", sa.BigInteger, nullable=False),
    sa.Column("lines", JsonDoc, nullable=False),
    sa.Index("ix_returns_store_date", "store_id", "business_date"),
)

# Every change to a store's stock, signed, in thousandths; stock_levels holds the running sum.
stock_movements = sa.Table(
    "stock_movements", metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("delta_milli", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("reference", sa.String(64), nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Index("ix_stock_movements_store_sku", "store_id", "sku", "id"),
)

stock_levels = sa.Table(
    "stock_levels", metadata,
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("on_hand_milli", sa.BigInteger, nullable=False),
)

cash_sessions = sa.Table(
    "cash_sessions", metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("drawer_id", sa.String(64), nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("opened_by", sa.String(64), nullable=False),
    sa.Column("opened_seq", sa.BigInteger, nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("float_minor", sa.BigInteger, nullable=False),
    sa.Column("closed_by", sa.String(64)),
    sa.Column("closed_seq", sa.BigInteger),
    sa.Column("expected", JsonDoc),
    sa.Column("counted", JsonDoc),
    sa.Column("over_short", JsonDoc),
)

cash_movements = sa.Table(
    "cash_movements", metadata,
    sa.Column("movement_id", sa.String(64), primary_key=True),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("session_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("employee_id", sa.String(64), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.String(256), nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
)

time_punches = sa.Table(
    "time_punches", metadata,
    sa.Column("punch_id", sa.String(64), primary_key=True),
    sa.Column("store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("employee_id", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("recorded_at", sa.String(64), nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Index("ix_time_punches_employee", "employee_id", "recorded_at"),
)

# Transfers between stores: ordered here, shipped by one store and received by the other (each
# an event in its own ledger). Shipped but not yet received is stock in transit.
transfers = sa.Table(
    "transfers", metadata,
    sa.Column("transfer_id", sa.String(64), primary_key=True),
    sa.Column("from_store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("to_store_id", sa.String(32), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("lines", JsonDoc, nullable=False),  # [{"sku", "quantity"}] as ordered
    sa.Column("note", sa.String(500)),
    sa.Column("status", sa.String(16), nullable=False),  # ordered, shipped, received
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("shipped_seq", sa.BigInteger),
    sa.Column("shipped_date", sa.Date),
    sa.Column("shipped_lines", JsonDoc),
    sa.Column("received_seq", sa.BigInteger),
    sa.Column("received_date", sa.Date),
    sa.Column("received_lines", JsonDoc),
    sa.Index("ix_transfers_status", "status"),
)

# --- accounting (server/accounting, docs/accounting.md) -------------------------------------

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),  # asset liability equity revenue expense
    sa.Column("role", sa.String(32), unique=True),  # what the posting rules know it by
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

fiscal_periods = sa.Table(  # a month that is closed; months without a row are open
    "fiscal_periods", metadata,
    sa.Column("period", sa.String(7), primary_key=True),  # YYYY-MM
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_by", sa.String(200), nullable=False),
)

# An entry exists once its header row does; the header is inserted after its lines and the
# database refuses it unless they balance per currency (triggers in migration 0009). Neither
# table accepts an UPDATE or a DELETE: a correction is a reversing entry.
journal_entries = sa.Table(
    "journal_entries", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("entry_key", sa.String(120), nullable=False, unique=True),
    sa.Column("store_id", sa.String(32)),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("seq", sa.BigInteger),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("posted_date", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("memo", sa.String(500), nullable=False),
    sa.Column("line_count", sa.Integer, nullable=False),
    sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reverses_key", sa.String(120)),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_journal_entries_posted", "posted_date"),
)

journal_lines = sa.Table(
    "journal_lines", metadata,
    sa.Column("entry_key", sa.String(120), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("account_code", sa.String(32), nullable=False),
    sa.Column("store_id", sa.String(32), nullable=False),  # "" for chain-level lines
    sa.Column("sub", sa.String(64), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),  # debit > 0, credit < 0
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("posted_date", sa.Date, nullable=False),
    sa.Index("ix_journal_lines_account", "account_code", "posted_date"),
)

# Running sums per account, store, sub-account and posting day, kept in the posting
# transaction: trial balances and statements read these, not every line.
ledger_daily = sa.Table(
    "ledger_daily", metadata,
    sa.Column("account_code", sa.String(32), primary_key=True),
    sa.Column("store_id", sa.String(32), primary_key=True),
    sa.Column("sub", sa.String(64), primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("posted_date", sa.Date, primary_key=True),
    sa.Column("debit_minor", sa.BigInteger, nullable=False),
    sa.Column("credit_minor", sa.BigInteger, nullable=False),
    sa.Index("ix_ledger_daily_date", "posted_date"),
)

cost_positions = sa.Table(  # moving weighted-average cost per store and product
    "cost_positions", metadata,
    sa.Column("store_id", sa.String(32), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("qty_milli", sa.BigInteger, nullable=False),
    sa.Column("value_minor", sa.BigInteger, nullable=False),
    sa.Column("unit_cost_minor", sa.BigInteger),
)

sale_costs = sa.Table(  # what each posted sale's lines cost, for its void and returns
    "sale_costs", metadata,
    # Keyed by the sale's event: new rows land at the end of the key (a random sale id would
    # put them all over an index, rewriting most of its pages in every commit).
    sa.Column("store_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("sale_id", sa.String(64), nullable=False),
    # The sale id again, only for a sale the sales projection cannot find by its id (an id
    # another store used first, an id repeated in one store): the others are found there.
    sa.Column("lookup_id", sa.String(64)),
    sa.Column("lines", sa.JSON, nullable=False),  # json, not jsonb: written once, read by key
    sa.Index("ix_sale_costs_lookup", "lookup_id",
             sqlite_where=sa.text("lookup_id IS NOT NULL"),
             postgresql_where=sa.text("lookup_id IS NOT NULL")),
)

transit_values = sa.Table(  # value shipped and received per transfer, and written off
    "transit_values", metadata,
    sa.Column("transfer_id", sa.String(64), primary_key=True),
    sa.Column("shipped", JsonDoc),
    sa.Column("received", JsonDoc),
    sa.Column("written_off_minor", sa.BigInteger, nullable=False, server_default="0"),
)

posting_cursors = sa.Table(  # each store's events are posted in order, through this seq
    "posting_cursors", metadata,
    sa.Column("store_id", sa.String(32), primary_key=True),
    sa.Column("posted_through", sa.BigInteger, nullable=False),
    sa.Column("stuck_seq", sa.BigInteger),  # an event that failed to post, waiting
    sa.Column("stuck_reason", sa.String(500)),
)

# A store's business day, closed in the books once its business_day.closed event (after the
# tills' Z reports) has been posted: the day's figures as the books then held them.
store_days = sa.Table(
    "store_days", metadata,
    sa.Column("store_id", sa.String(32), primary_key=True),
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("closed_seq", sa.BigInteger, nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("figures", JsonDoc, nullable=False),
)

# One row per run of a scheduled job. The (job, slot) pair is unique, so when several server
# processes fire the same night's job only the first insert wins and the job runs once.
job_runs = sa.Table(
    "job_runs", metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(40), nullable=False),
    sa.Column("slot", sa.String(40), nullable=False),
    sa.Column("runner", sa.String(120), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("outcome", sa.String(16), nullable=False),  # running, ok, differences, failed
    sa.Column("detail", JsonDoc),
    sa.UniqueConstraint("job", "slot", name="uq_job_runs_job_slot"),
)

# --- payroll (docs/payroll.md) -----------------------------------------------------------

pay_schedules = sa.Table(  # weekly / biweekly (anchored on a period's first day), ...
    "pay_schedules", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("frequency", sa.String(12), nullable=False),
    sa.Column("anchor", sa.Date, nullable=False),
    sa.Column("pay_lag_days", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# An employee's pay profile; the bank account is kept only encrypted (Fernet, key outside the
# database) with a masked form for display.
employee_pay = sa.Table(
    "employee_pay", metadata,
    sa.Column("employee_id", sa.String(64), sa.ForeignKey("employees.employee_id"),
              primary_key=True),
    sa.Column("pay_type", sa.String(10), nullable=False),  # hourly, salaried
    sa.Column("home_store_id", sa.String(32), sa.ForeignKey("stores.store_id"),
              nullable=False),
    sa.Column("work_state", sa.String(2), nullable=False),
    sa.Column("schedule_code", sa.String(32), sa.ForeignKey("pay_schedules.code"),
              nullable=False),
    sa.Column("w4", JsonDoc, nullable=False),
    sa.Column("bank_sealed", sa.Text),
    sa.Column("bank_masked", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

pay_rates = sa.Table(  # effective-dated: cents an hour (hourly) or a year (salaried)
    "pay_rates", metadata,
    sa.Column("employee_id", sa.String(64), primary_key=True),
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("rate_minor", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

employee_deductions = sa.Table(  # standing deductions, in the order they are taken
    "employee_deductions", metadata,
    sa.Column("employee_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("amount_minor", sa.BigInteger),
    sa.Column("percent", sa.String(16)),
    sa.Column("annual_cap_minor", sa.BigInteger),
    sa.Column("reference", sa.String(64)),  # which order or plan: caps are kept per reference
    sa.Column("balance_minor", sa.BigInteger),  # an order's total, taken over the years
)

# Managers' corrections to shifts: who, when, why, the shift before and after. The punch
# events are never edited.
time_corrections = sa.Table(
    "time_corrections", metadata,
    sa.Column("correction_id", sa.String(64), primary_key=True),
    sa.Column("employee_id", sa.String(64), nullable=False),
    sa.Column("shift_key", sa.String(64), nullable=False),
    sa.Column("action", sa.String(8), nullable=False),  # set, void
    sa.Column("store_id", sa.String(32)),
    sa.Column("start_at", sa.DateTime(timezone=True)),
    sa.Column("end_at", sa.DateTime(timezone=True)),
    sa.Column("break_minutes", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("made_by", sa.String(200), nullable=False),
    sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("before", JsonDoc),
    sa.Column("after", JsonDoc),
    sa.Index("ix_time_corrections_employee", "employee_id", "made_at"),
)

# A workweek's timesheet once closed (its week ended) or approved (locked: its minutes are
# what pay runs use, whatever arrives later).
timesheets = sa.Table(
    "timesheets", metadata,
    sa.Column("employee_id", sa.String(64), primary_key=True),
    sa.Column("week_start", sa.Date, primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),  # closed, approved
    sa.Column("rule_set", sa.String(32), nullable=False),
    sa.Column("worked_minutes", sa.Integer, nullable=False),
    sa.Column("minutes", JsonDoc, nullable=False),  # per multiplier, per day
    sa.Column("exceptions", JsonDoc, nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("approved_by", sa.String(200)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Index("ix_timesheets_week", "week_start", "status"),
)

pay_runs = sa.Table(
    "pay_runs", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("schedule_code", sa.String(32), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("pay_date", sa.Date, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # regular, off_cycle
    # "SCHEDULE:PERIOD_START" for a regular run (one per period), NULL for off-cycle runs
    sa.Column("regular_key", sa.String(80), unique=True),
    sa.Column("corrects_run_id", sa.String(64)),
    sa.Column("status", sa.String(10), nullable=False),  # draft, approved, posted
    sa.Column("totals", JsonDoc, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("approved_by", sa.String(200)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("posted_by", sa.String(200)),
    sa.Column("posted_at", sa.DateTime(timezone=True)),
)

paychecks = sa.Table(
    "paychecks", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("employee_id", sa.String(64), primary_key=True),
    sa.Column("store_id", sa.String(32), nullable=False),
    sa.Column("pay_date", sa.Date, nullable=False),
    sa.Column("gross_minor", sa.BigInteger, nullable=False),
    sa.Column("income_tax_wages_minor", sa.BigInteger, nullable=False),
    sa.Column("ss_wages_minor", sa.BigInteger, nullable=False),
    sa.Column("medicare_wages_minor", sa.BigInteger, nullable=False),
    sa.Column("futa_wages_minor", sa.BigInteger, nullable=False),
    sa.Column("income_tax_minor", sa.BigInteger, nullable=False),
    sa.Column("ss_employee_minor", sa.BigInteger, nullable=False),
    sa.Column("medicare_employee_minor", sa.BigInteger, nullable=False),
    sa.Column("ss_employer_minor", sa.BigInteger, nullable=False),
    sa.Column("medicare_employer_minor", sa.BigInteger, nullable=False),
    sa.Column("futa_employer_minor", sa.BigInteger, nullable=False),
    sa.Column("deductions", JsonDoc, nullable=False),  # kind -> amount, pre/post tax
    sa.Column("net_minor", sa.BigInteger, nullable=False),
    sa.Column("detail", JsonDoc, nullable=False),  # earnings, hours, worksheet lines
    sa.Index("ix_paychecks_employee", "employee_id", "pay_date"),
)
