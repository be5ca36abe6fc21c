"""Head-office catalog (products, scheduled prices) and the change outbox stores pull from.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")
RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "catalog_products",
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.Column("tax_rate", sa.String(16), nullable=False),
        sa.Column("barcodes", JsonDoc, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", name="pk_catalog_products"),
    )
    op.create_table(
        "catalog_prices",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(32)),
        sa.Column("effective_at", sa.String(32), nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(["sku"], ["catalog_products.sku"],
                                name="fk_catalog_prices_sku_catalog_products"),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"],
                                name="fk_catalog_prices_store_id_stores"),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_prices"),
    )
    op.create_table(
        "changes",
        sa.Column("cursor", RowId, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("payload", JsonDoc, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cursor", name="pk_changes"),
    )
    op.create_index("ix_changes_scope_cursor", "changes", ["scope", "cursor"])


def downgrade() -> None:
    op.drop_index("ix_changes_scope_cursor", "changes")
    for table in ("changes", "catalog_prices", "catalog_products"):
        op.drop_table(table)
