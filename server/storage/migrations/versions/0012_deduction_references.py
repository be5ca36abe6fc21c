"""A standing deduction's reference (a court order's case number, a plan's id): two
deductions of one kind — two garnishments, say — each keep their own annual cap.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("employee_deductions", sa.Column("reference", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("employee_deductions") as batch:
        batch.drop_column("reference")
