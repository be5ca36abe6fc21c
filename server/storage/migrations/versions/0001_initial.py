"""Stores, API tokens, raw store events, and sales with their lines and tenders.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")
RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("high_water", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("store_id", name="pk_stores"),
        sa.UniqueConstraint("token_hash", name="uq_stores_token_hash"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "store_events",
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("payload", JsonDoc, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"],
                                name="fk_store_events_store_id_stores"),
        sa.PrimaryKeyConstraint("store_id", "seq", name="pk_store_events"),
        sa.UniqueConstraint("event_id", name="uq_store_events_event_id"),
    )
    op.create_table(
        "sales",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("sale_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
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
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"],
                                name="fk_sales_store_id_stores"),
        sa.PrimaryKeyConstraint("id", name="pk_sales"),
        sa.UniqueConstraint("sale_id", name="uq_sales_sale_id"),
    )
    op.create_index("ix_sales_store_date", "sales", ["store_id", "business_date"])
    op.create_table(
        "sale_lines",
        sa.Column("sale_row", sa.BigInteger, nullable=False),
        sa.Column("line_no", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger, nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("tax_rate", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["sale_row"], ["sales.id"], name="fk_sale_lines_sale_row_sales"),
        sa.PrimaryKeyConstraint("sale_row", "line_no", name="pk_sale_lines"),
    )
    op.create_table(
        "sale_tenders",
        sa.Column("sale_row", sa.BigInteger, nullable=False),
        sa.Column("tender_no", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["sale_row"], ["sales.id"],
                                name="fk_sale_tenders_sale_row_sales"),
        sa.PrimaryKeyConstraint("sale_row", "tender_no", name="pk_sale_tenders"),
    )


def downgrade() -> None:
    for table in ("sale_tenders", "sale_lines", "sales", "store_events", "api_tokens", "stores"):
        op.drop_table(table)
