"""An index on the sales' business date, so a report over a date range for every store (by
product, tender or hour) reads that range, not the whole history.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sales_business_date", "sales", ["business_date"])


def downgrade() -> None:
    op.drop_index("ix_sales_business_date", table_name="sales")
