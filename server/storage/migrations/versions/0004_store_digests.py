"""The last nightly digest comparison each store reported.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "store_digests",
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("through_seq", sa.BigInteger, nullable=False),
        sa.Column("matches", sa.Boolean, nullable=False),
        sa.Column("differences", JsonDoc, nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"],
                                name="fk_store_digests_store_id_stores"),
        sa.PrimaryKeyConstraint("store_id", name="pk_store_digests"),
    )


def downgrade() -> None:
    op.drop_table("store_digests")
