"""Sale costs keyed by the sale's event (store, seq) instead of by (store, sale id).

A sale id is a random UUID: an index on it takes each batch's new rows at random places,
rewriting most of its pages in every commit — measured, the sale costs were over half of
what posting wrote to the database. Keyed by seq the rows land at the end of the key. Sales
are found by id through the sales projection's unique index, which ingest keeps anyway; only
a sale the projection cannot hold (an id another store used first, an id repeated in one
store) keeps its id in ``lookup_id``, and a partial index holds only those.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_LOOKUP_WHERE = sa.text("lookup_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "sale_costs_by_seq",
        sa.Column("store_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("sale_id", sa.String(64), nullable=False),
        sa.Column("lookup_id", sa.String(64)),
        sa.Column("lines", sa.JSON, nullable=False),
    )
    op.execute(
        "INSERT INTO sale_costs_by_seq (store_id, seq, sale_id, lookup_id, lines) "
        "SELECT c.store_id, c.seq, c.sale_id, "
        "CASE WHEN EXISTS (SELECT 1 FROM sales s WHERE s.sale_id = c.sale_id "
        "AND s.store_id = c.store_id AND s.seq = c.seq) THEN NULL ELSE c.sale_id END, "
        "c.lines FROM sale_costs c")
    op.drop_table("sale_costs")
    op.rename_table("sale_costs_by_seq", "sale_costs")
    op.create_index("ix_sale_costs_lookup", "sale_costs", ["lookup_id"],
                    sqlite_where=_LOOKUP_WHERE, postgresql_where=_LOOKUP_WHERE)


def downgrade() -> None:
    op.create_table(
        "sale_costs_by_id",
        sa.Column("store_id", sa.String(32), primary_key=True),
        sa.Column("sale_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
    )
    op.execute("INSERT INTO sale_costs_by_id (store_id, sale_id, seq, lines) "
               "SELECT store_id, sale_id, seq, lines FROM sale_costs")
    op.drop_index("ix_sale_costs_lookup", "sale_costs")
    op.drop_table("sale_costs")
    op.rename_table("sale_costs_by_id", "sale_costs")
