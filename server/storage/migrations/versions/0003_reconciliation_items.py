"""Reconciliation items: business problems found in store events, for head office to resolve.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")
RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "reconciliation_items",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", JsonDoc, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(200)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolution", sa.String(500)),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"],
                                name="fk_reconciliation_items_store_id_stores"),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_items"),
    )
    op.create_index("ix_reconciliation_items_status", "reconciliation_items", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_reconciliation_items_status", "reconciliation_items")
    op.drop_table("reconciliation_items")
