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
    sa.Index("ix_sales_store_date", "store_id", "business_date"),
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
