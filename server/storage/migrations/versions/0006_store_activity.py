"""Store activity beyond sales (voids, returns, stock movements and levels, cash sessions and
movements, time punches), the per-day sales summary, the sale's local hour, and the product
fields inventory needs (standard cost, reorder level). Existing sales are summarised and
their local hour filled in, so reports cover them too.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")
RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"],
                                   name=f"fk_{table}_store_id_stores")


def upgrade() -> None:
    with op.batch_alter_table("sales") as batch:
        batch.add_column(sa.Column("local_hour", sa.SmallInteger))
    with op.batch_alter_table("sale_tenders") as batch:
        batch.add_column(sa.Column("net_minor", sa.BigInteger))
    with op.batch_alter_table("catalog_products") as batch:
        batch.add_column(sa.Column("cost_minor", sa.BigInteger))
        batch.add_column(sa.Column("reorder_level_milli", sa.BigInteger))
    op.create_table(
        "sales_daily",
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in (
            "sales_count", "subtotal_minor", "tax_minor", "total_minor", "voids_count",
            "voids_minor", "returns_count", "returns_minor")),
        _store_fk("sales_daily"),
        sa.PrimaryKeyConstraint("store_id", "business_date", name="pk_sales_daily"),
    )
    op.create_table(
        "sale_voids",
        sa.Column("sale_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        _store_fk("sale_voids"),
        sa.PrimaryKeyConstraint("sale_id", name="pk_sale_voids"),
    )
    op.create_table(
        "returns",
        sa.Column("return_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("original_sale_id", sa.String(64)),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("receipt_no", sa.BigInteger, nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("tax_minor", sa.BigInteger, nullable=False),
        sa.Column("lines", JsonDoc, nullable=False),
        _store_fk("returns"),
        sa.PrimaryKeyConstraint("return_id", name="pk_returns"),
    )
    op.create_index("ix_returns_store_date", "returns", ["store_id", "business_date"])
    op.create_table(
        "stock_movements",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("delta_milli", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        _store_fk("stock_movements"),
        sa.PrimaryKeyConstraint("id", name="pk_stock_movements"),
    )
    op.create_index("ix_stock_movements_store_sku", "stock_movements", ["store_id", "sku", "id"])
    op.create_table(
        "stock_levels",
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("on_hand_milli", sa.BigInteger, nullable=False),
        _store_fk("stock_levels"),
        sa.PrimaryKeyConstraint("store_id", "sku", name="pk_stock_levels"),
    )
    op.create_table(
        "cash_sessions",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("drawer_id", sa.String(64), nullable=False),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_seq", sa.BigInteger, nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("float_minor", sa.BigInteger, nullable=False),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("closed_seq", sa.BigInteger),
        sa.Column("expected", JsonDoc),
        sa.Column("counted", JsonDoc),
        sa.Column("over_short", JsonDoc),
        _store_fk("cash_sessions"),
        sa.PrimaryKeyConstraint("session_id", name="pk_cash_sessions"),
    )
    op.create_table(
        "cash_movements",
        sa.Column("movement_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        _store_fk("cash_movements"),
        sa.PrimaryKeyConstraint("movement_id", name="pk_cash_movements"),
    )
    op.create_table(
        "time_punches",
        sa.Column("punch_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        _store_fk("time_punches"),
        sa.PrimaryKeyConstraint("punch_id", name="pk_time_punches"),
    )
    op.create_index("ix_time_punches_employee", "time_punches", ["employee_id", "recorded_at"])
    _backfill()


def _backfill() -> None:
    """Summarise existing sales per day; give each its local hour and its tenders' net."""
    conn = op.get_bind()
    conn.execute(sa.text(
        "INSERT INTO sales_daily (store_id, business_date, sales_count, subtotal_minor, "
        "tax_minor, total_minor, voids_count, voids_minor, returns_count, returns_minor) "
        "SELECT store_id, business_date, count(*), sum(subtotal_minor), sum(tax_minor), "
        "sum(total_minor), 0, 0, 0, 0 FROM sales GROUP BY store_id, business_date"))
    zones = {row.store_id: ZoneInfo(row.timezone)
             for row in conn.execute(sa.text("SELECT store_id, timezone FROM stores"))}
    rows = conn.execute(sa.text("SELECT id, store_id, recorded_at FROM sales")).all()
    for row in rows:
        hour = datetime.fromisoformat(row.recorded_at.replace("Z", "+00:00")) \
            .astimezone(zones[row.store_id]).hour
        conn.execute(sa.text("UPDATE sales SET local_hour = :hour WHERE id = :id"),
                     {"hour": hour, "id": row.id})
    conn.execute(sa.text("UPDATE sale_tenders SET net_minor = amount_minor"))
    first_cash = conn.execute(sa.text(
        "SELECT t.sale_row, min(t.tender_no) AS tender_no, s.change_due_minor AS change "
        "FROM sale_tenders t JOIN sales s ON s.id = t.sale_row "
        "WHERE t.type = 'cash' AND s.change_due_minor <> 0 "
        "GROUP BY t.sale_row, s.change_due_minor")).all()
    for row in first_cash:
        conn.execute(sa.text("UPDATE sale_tenders SET net_minor = amount_minor - :change "
                             "WHERE sale_row = :sale_row AND tender_no = :tender_no"),
                     {"change": row.change, "sale_row": row.sale_row,
                      "tender_no": row.tender_no})


def downgrade() -> None:
    op.drop_index("ix_time_punches_employee", table_name="time_punches")
    op.drop_table("time_punches")
    op.drop_table("cash_movements")
    op.drop_table("cash_sessions")
    op.drop_table("stock_levels")
    op.drop_index("ix_stock_movements_store_sku", table_name="stock_movements")
    op.drop_table("stock_movements")
    op.drop_index("ix_returns_store_date", table_name="returns")
    op.drop_table("returns")
    op.drop_table("sale_voids")
    op.drop_table("sales_daily")
    with op.batch_alter_table("catalog_products") as batch:
        batch.drop_column("reorder_level_milli")
        batch.drop_column("cost_minor")
    with op.batch_alter_table("sale_tenders") as batch:
        batch.drop_column("net_minor")
    with op.batch_alter_table("sales") as batch:
        batch.drop_column("local_hour")
