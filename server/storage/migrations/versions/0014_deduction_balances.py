"""A standing deduction's balance: the total an order is for (a garnishment's debt, a loan),
taken paycheck by paycheck over as many years as it takes — an annual cap starts again each
January, a balance does not.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("employee_deductions", sa.Column("balance_minor", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("employee_deductions") as batch:
        batch.drop_column("balance_minor")
