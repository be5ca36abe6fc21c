"""Payroll: pay schedules, employees' pay profiles (the bank account sealed), effective-dated
rates, standing deductions, managers' time corrections (audited), timesheets (closed, then
approved and locked), pay runs (one regular run per schedule period) and their paychecks.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
Instant = sa.DateTime(timezone=True)
Minor = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "pay_schedules",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("frequency", sa.String(12), nullable=False),
        sa.Column("anchor", sa.Date, nullable=False),
        sa.Column("pay_lag_days", sa.Integer, nullable=False),
        sa.Column("created_at", Instant, nullable=False),
    )
    op.create_table(
        "employee_pay",
        sa.Column("employee_id", sa.String(64), sa.ForeignKey("employees.employee_id"),
                  primary_key=True),
        sa.Column("pay_type", sa.String(10), nullable=False),
        sa.Column("home_store_id", sa.String(32), sa.ForeignKey("stores.store_id"),
                  nullable=False),
        sa.Column("work_state", sa.String(2), nullable=False),
        sa.Column("schedule_code", sa.String(32), sa.ForeignKey("pay_schedules.code"),
                  nullable=False),
        sa.Column("w4", JsonDoc, nullable=False),
        sa.Column("bank_sealed", sa.Text),
        sa.Column("bank_masked", sa.String(64)),
        sa.Column("updated_at", Instant, nullable=False),
    )
    op.create_table(
        "pay_rates",
        sa.Column("employee_id", sa.String(64), primary_key=True),
        sa.Column("effective_from", sa.Date, primary_key=True),
        sa.Column("rate_minor", Minor, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
    )
    op.create_table(
        "employee_deductions",
        sa.Column("employee_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount_minor", Minor),
        sa.Column("percent", sa.String(16)),
        sa.Column("annual_cap_minor", Minor),
    )
    op.create_table(
        "time_corrections",
        sa.Column("correction_id", sa.String(64), primary_key=True),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("shift_key", sa.String(64), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("store_id", sa.String(32)),
        sa.Column("start_at", Instant),
        sa.Column("end_at", Instant),
        sa.Column("break_minutes", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("made_by", sa.String(200), nullable=False),
        sa.Column("made_at", Instant, nullable=False),
        sa.Column("before", JsonDoc),
        sa.Column("after", JsonDoc),
    )
    op.create_index("ix_time_corrections_employee", "time_corrections",
                    ["employee_id", "made_at"])
    op.create_table(
        "timesheets",
        sa.Column("employee_id", sa.String(64), primary_key=True),
        sa.Column("week_start", sa.Date, primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("rule_set", sa.String(32), nullable=False),
        sa.Column("worked_minutes", sa.Integer, nullable=False),
        sa.Column("minutes", JsonDoc, nullable=False),
        sa.Column("exceptions", JsonDoc, nullable=False),
        sa.Column("closed_at", Instant, nullable=False),
        sa.Column("approved_by", sa.String(200)),
        sa.Column("approved_at", Instant),
    )
    op.create_index("ix_timesheets_week", "timesheets", ["week_start", "status"])
    op.create_table(
        "pay_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("schedule_code", sa.String(32), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("pay_date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("regular_key", sa.String(80), unique=True),
        sa.Column("corrects_run_id", sa.String(64)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("totals", JsonDoc, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("approved_by", sa.String(200)),
        sa.Column("approved_at", Instant),
        sa.Column("posted_by", sa.String(200)),
        sa.Column("posted_at", Instant),
    )
    op.create_table(
        "paychecks",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("employee_id", sa.String(64), primary_key=True),
        sa.Column("store_id", sa.String(32), nullable=False),
        sa.Column("pay_date", sa.Date, nullable=False),
        *(sa.Column(f"{name}_minor", Minor, nullable=False) for name in (
            "gross", "income_tax_wages", "ss_wages", "medicare_wages", "futa_wages",
            "income_tax", "ss_employee", "medicare_employee", "ss_employer",
            "medicare_employer", "futa_employer")),
        sa.Column("deductions", JsonDoc, nullable=False),
        sa.Column("net_minor", Minor, nullable=False),
        sa.Column("detail", JsonDoc, nullable=False),
    )
    op.create_index("ix_paychecks_employee", "paychecks", ["employee_id", "pay_date"])


def downgrade() -> None:
    for table in ("paychecks", "pay_runs", "timesheets", "time_corrections",
                  "employee_deductions", "pay_rates", "employee_pay", "pay_schedules"):
        op.drop_table(table)
