"""Store days closed in the books, and the runs of scheduled jobs (unique per job and slot,
which is what makes a nightly job run once across several server processes).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "store_days",
        sa.Column("store_id", sa.String(32), primary_key=True),
        sa.Column("business_date", sa.Date, primary_key=True),
        sa.Column("closed_seq", sa.BigInteger, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figures", JsonDoc, nullable=False),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("slot", sa.String(40), nullable=False),
        sa.Column("runner", sa.String(120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", JsonDoc),
        sa.UniqueConstraint("job", "slot", name="uq_job_runs_job_slot"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_table("store_days")
