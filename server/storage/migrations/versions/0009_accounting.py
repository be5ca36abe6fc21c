"""Accounting: the chart of accounts, fiscal periods, the journal (entries and lines) with
its balance and immutability enforced by the database, daily running sums per account, cost
positions, sale costs, transfers' values in transit and the per-store posting cursor.

The journal's rules live in triggers, so no code path — this server's or a hand-typed SQL
statement — can store an unbalanced or altered entry:

- an entry's header is inserted after its lines and is refused unless it has at least two
  lines, exactly ``line_count`` of them, summing to zero in each currency;
- no line can be added to an entry whose header exists;
- no entry or line can be updated or deleted.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

UNBALANCED = "unbalanced journal entry: its lines must sum to zero in each currency"
SEALED = "journal entry already posted: no line can be added to it"
IMMUTABLE = "posted journal entries never change: post a reversing entry"

_SQLITE = [
    f"""CREATE TRIGGER journal_entry_balanced BEFORE INSERT ON journal_entries
    WHEN NEW.line_count < 2
      OR NEW.line_count <> (SELECT COUNT(*) FROM journal_lines WHERE entry_key = NEW.entry_key)
      OR EXISTS (SELECT 1 FROM journal_lines WHERE entry_key = NEW.entry_key
                 GROUP BY currency HAVING SUM(amount_minor) <> 0)
    BEGIN SELECT RAISE(ABORT, '{UNBALANCED}'); END""",
    f"""CREATE TRIGGER journal_line_sealed BEFORE INSERT ON journal_lines
    WHEN EXISTS (SELECT 1 FROM journal_entries WHERE entry_key = NEW.entry_key)
    BEGIN SELECT RAISE(ABORT, '{SEALED}'); END""",
    *(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
    BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"""
      for table in ("journal_entries", "journal_lines") for action in ("UPDATE", "DELETE")),
]

_POSTGRESQL = [
    f"""CREATE FUNCTION journal_entries_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (
        SELECT 1 FROM new_entries e
        WHERE e.line_count < 2
           OR e.line_count <> (SELECT COUNT(*) FROM journal_lines l
                               WHERE l.entry_key = e.entry_key)
           OR EXISTS (SELECT 1 FROM journal_lines l WHERE l.entry_key = e.entry_key
                      GROUP BY l.currency HAVING SUM(l.amount_minor) <> 0))
      THEN
        RAISE EXCEPTION '{UNBALANCED}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT
    EXECUTE FUNCTION journal_entries_balanced()""",
    f"""CREATE FUNCTION journal_lines_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM new_lines n JOIN journal_entries e
                 ON e.entry_key = n.entry_key) THEN
        RAISE EXCEPTION '{SEALED}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER journal_lines_sealed AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT
    EXECUTE FUNCTION journal_lines_sealed()""",
    f"""CREATE FUNCTION journal_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '{IMMUTABLE}' USING ERRCODE = 'check_violation';
    END $$""",
    *(f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION journal_immutable()"""
      for table in ("journal_entries", "journal_lines")),
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("role", sa.String(32), unique=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "fiscal_periods",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("entry_key", sa.String(120), nullable=False, unique=True),
        sa.Column("store_id", sa.String(32)),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("posted_date", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("memo", sa.String(500), nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reverses_key", sa.String(120)),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_journal_entries_posted", "journal_entries", ["posted_date"])
    op.create_table(
        "journal_lines",
        sa.Column("entry_key", sa.String(120), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("account_code", sa.String(32), nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("sub", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("posted_date", sa.Date, nullable=False),
    )
    op.create_index("ix_journal_lines_account", "journal_lines",
                    ["account_code", "posted_date"])
    op.create_table(
        "ledger_daily",
        sa.Column("account_code", sa.String(32), primary_key=True),
        sa.Column("store_id", sa.String(32), primary_key=True),
        sa.Column("sub", sa.String(64), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("posted_date", sa.Date, primary_key=True),
        sa.Column("debit_minor", sa.BigInteger, nullable=False),
        sa.Column("credit_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ledger_daily_date", "ledger_daily", ["posted_date"])
    op.create_table(
        "cost_positions",
        sa.Column("store_id", sa.String(32), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("qty_milli", sa.BigInteger, nullable=False),
        sa.Column("value_minor", sa.BigInteger, nullable=False),
        sa.Column("unit_cost_minor", sa.BigInteger),
    )
    op.create_table(
        "sale_costs",
        sa.Column("store_id", sa.String(32), primary_key=True),
        sa.Column("sale_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
    )
    op.create_table(
        "transit_values",
        sa.Column("transfer_id", sa.String(64), primary_key=True),
        sa.Column("shipped", JsonDoc),
        sa.Column("received", JsonDoc),
        sa.Column("written_off_minor", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "posting_cursors",
        sa.Column("store_id", sa.String(32), primary_key=True),
        sa.Column("posted_through", sa.BigInteger, nullable=False),
        sa.Column("stuck_seq", sa.BigInteger),
        sa.Column("stuck_reason", sa.String(500)),
    )
    for statement in _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("journal_entries", "journal_lines"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP TRIGGER IF EXISTS journal_entries_balanced ON journal_entries")
        op.execute("DROP TRIGGER IF EXISTS journal_lines_sealed ON journal_lines")
        for function in ("journal_entries_balanced", "journal_lines_sealed",
                         "journal_immutable"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for table in ("posting_cursors", "transit_values", "sale_costs", "cost_positions",
                  "ledger_daily", "journal_lines", "journal_entries", "fiscal_periods",
                  "accounts"):
        op.drop_table(table)
