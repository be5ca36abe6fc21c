"""Transfers between stores.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.String(64), nullable=False),
        sa.Column("from_store_id", sa.String(32), nullable=False),
        sa.Column("to_store_id", sa.String(32), nullable=False),
        sa.Column("lines", JsonDoc, nullable=False),
        sa.Column("note", sa.String(500)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_seq", sa.BigInteger),
        sa.Column("shipped_date", sa.Date),
        sa.Column("shipped_lines", JsonDoc),
        sa.Column("received_seq", sa.BigInteger),
        sa.Column("received_date", sa.Date),
        sa.Column("received_lines", JsonDoc),
        sa.ForeignKeyConstraint(["from_store_id"], ["stores.store_id"],
                                name="fk_transfers_from_store_id_stores"),
        sa.ForeignKeyConstraint(["to_store_id"], ["stores.store_id"],
                                name="fk_transfers_to_store_id_stores"),
        sa.PrimaryKeyConstraint("transfer_id", name="pk_transfers"),
    )
    op.create_index("ix_transfers_status", "transfers", ["status"])


def downgrade() -> None:
    op.drop_index("ix_transfers_status", table_name="transfers")
    op.drop_table("transfers")
