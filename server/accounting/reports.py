"""The books' reports, read from the daily running sums (``ledger_daily``) so that a trial
balance or a statement costs the same over ten million lines as over ten: trial balance at a
date, income statement (P&L) for a range, balance sheet at a date, per store or consolidated;
the general ledger of an account line by line with a running balance; sales tax by rate;
cash over/short by store and cashier; inventory valuation beside the GL inventory account.

Figures are signed minor units, debit positive; each report says which way it shows them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounting.chart import Chart
from server.storage.tables import (
    accounts,
    cash_sessions,
    cost_positions,
    journal_entries,
    journal_lines,
    ledger_daily,
)


@dataclass(frozen=True, slots=True)
class AccountBalance:
    code: str
    name: str
    type: str
    sub: str
    currency: str
    debit_minor: int  # turnover
    credit_minor: int

    @property
    def balance_minor(self) -> int:
        return self.debit_minor - self.credit_minor


async def balances(conn: AsyncConnection, *, start: date | None = None,
                   through: date | None = None, store_id: str | None = None,
                   by_sub: bool = False, codes: list[str] | None = None) -> list[AccountBalance]:
    """Turnover per account (and sub-account) over posting dates ``start``..``through``."""
    group = [ledger_daily.c.account_code, ledger_daily.c.currency]
    if by_sub:
        group.append(ledger_daily.c.sub)
    query = (sa.select(*group, sa.func.sum(ledger_daily.c.debit_minor).label("debit"),
                       sa.func.sum(ledger_daily.c.credit_minor).label("credit"))
             .group_by(*group))
    if start is not None:
        query = query.where(ledger_daily.c.posted_date >= start)
    if through is not None:
        query = query.where(ledger_daily.c.posted_date <= through)
    if store_id is not None:
        query = query.where(ledger_daily.c.store_id == store_id)
    if codes is not None:
        query = query.where(ledger_daily.c.account_code.in_(codes))
    names = {r.code: (r.name, r.type) for r in await conn.execute(
        sa.select(accounts.c.code, accounts.c.name, accounts.c.type))}
    out = []
    for row in await conn.execute(query):
        name, type_ = names.get(row.account_code, (row.account_code, "asset"))
        out.append(AccountBalance(row.account_code, name, type_, row.sub if by_sub else "",
                                  row.currency, int(row.debit or 0), int(row.credit or 0)))
    return sorted(out, key=lambda b: (b.code, b.sub, b.currency))


async def ledger_sums(conn: AsyncConnection, *, start: date | None = None,
                      through: date | None = None) -> list[Any]:
    """Balance (debit positive) per account, store, sub-account and currency over posting
    dates ``start``..``through``: what a closing entry or an export's balances brought
    forward are made of."""
    group = (ledger_daily.c.account_code, ledger_daily.c.store_id, ledger_daily.c.sub,
             ledger_daily.c.currency)
    query = sa.select(*group, sa.func.sum(ledger_daily.c.debit_minor
                                          - ledger_daily.c.credit_minor).label("balance"))
    if start is not None:
        query = query.where(ledger_daily.c.posted_date >= start)
    if through is not None:
        query = query.where(ledger_daily.c.posted_date <= through)
    return list(await conn.execute(query.group_by(*group)))


async def trial_balance(conn: AsyncConnection, as_of: date | None,
                        store_id: str | None = None, by_sub: bool = False
                        ) -> list[AccountBalance]:
    return [b for b in await balances(conn, through=as_of, store_id=store_id, by_sub=by_sub)
            if b.balance_minor]


async def income_statement(conn: AsyncConnection, start: date | None, end: date | None,
                           store_id: str | None = None) -> list[AccountBalance]:
    return [b for b in await balances(conn, start=start, through=end, store_id=store_id)
            if b.type in ("revenue", "expense") and b.balance_minor]


async def balance_sheet(conn: AsyncConnection, as_of: date | None,
                        store_id: str | None = None) -> tuple[list[AccountBalance], int]:
    """The asset, liability and equity balances, and the earnings not yet closed into
    retained earnings (revenue and expense balances through ``as_of``), credit positive."""
    rows = await balances(conn, through=as_of, store_id=store_id)
    unclosed = -sum(b.balance_minor for b in rows if b.type in ("revenue", "expense"))
    return [b for b in rows if b.type in ("asset", "liability", "equity")
            and b.balance_minor], unclosed


async def ledger_lines(conn: AsyncConnection, code: str, *, start: date | None,
                       end: date | None, store_id: str | None,
                       after: tuple[date, str, int] | None, limit: int) -> list[Any]:
    """One account's lines in posting order, after ``after`` (posted_date, entry, line)."""
    query = (sa.select(journal_lines.c.line_no, journal_lines.c.posted_date,
                       journal_lines.c.business_date, journal_lines.c.entry_key,
                       journal_lines.c.store_id, journal_lines.c.sub,
                       journal_lines.c.amount_minor, journal_lines.c.currency,
                       journal_entries.c.memo, journal_entries.c.source,
                       journal_entries.c.late)
             .join(journal_entries, journal_entries.c.entry_key == journal_lines.c.entry_key)
             .where(journal_lines.c.account_code == code)
             .order_by(journal_lines.c.posted_date, journal_lines.c.entry_key,
                       journal_lines.c.line_no).limit(limit))
    if start is not None:
        query = query.where(journal_lines.c.posted_date >= start)
    if end is not None:
        query = query.where(journal_lines.c.posted_date <= end)
    if store_id is not None:
        query = query.where(journal_lines.c.store_id == store_id)
    if after is not None:
        day, key, line_no = after
        query = query.where(sa.tuple_(journal_lines.c.posted_date, journal_lines.c.entry_key,
                                      journal_lines.c.line_no) > sa.tuple_(day, key, line_no))
    return list(await conn.execute(query))


async def opening_balance(conn: AsyncConnection, code: str, before: date | None,
                          store_id: str | None) -> int:
    if before is None:
        return 0
    query = sa.select(sa.func.coalesce(sa.func.sum(ledger_daily.c.debit_minor
                                                   - ledger_daily.c.credit_minor), 0)).where(
        ledger_daily.c.account_code == code, ledger_daily.c.posted_date < before)
    if store_id is not None:
        query = query.where(ledger_daily.c.store_id == store_id)
    return int((await conn.execute(query)).scalar_one())


async def sales_tax(conn: AsyncConnection, chart: Chart, start: date | None, end: date | None,
                    store_id: str | None = None) -> list[dict[str, Any]]:
    """Per tax rate: net sales (sales − discounts − returns) and tax (collected on sales less
    refunded on returns), both credit positive."""
    roles = {chart.code(r): r for r in ("revenue", "discounts", "returns", "sales_tax")}
    rows = await balances(conn, start=start, through=end, store_id=store_id, by_sub=True,
                          codes=list(roles))
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"net_sales": 0,
                                                                      "tax": 0})
    for row in rows:
        figures = out[(row.sub, row.currency)]
        figures["tax" if roles[row.code] == "sales_tax" else "net_sales"] -= row.balance_minor
    return [{"rate": rate, "currency": currency, **figures}
            for (rate, currency), figures in sorted(out.items(), key=_rate_order)]


def _rate_order(item: tuple[tuple[str, str], Any]) -> tuple[float, str]:
    (rate, currency), _ = item
    try:
        return float(rate), currency
    except ValueError:
        return float("inf"), currency


async def cash_over_short(conn: AsyncConnection, start: date | None, end: date | None,
                          store_id: str | None = None) -> list[dict[str, Any]]:
    """Per store and cashier (who opened the till): sessions closed, cash over (+) or short
    (−) in total, and the largest single shortage."""
    query = sa.select(cash_sessions.c.store_id, cash_sessions.c.opened_by,
                      cash_sessions.c.over_short, cash_sessions.c.business_date).where(
        cash_sessions.c.closed_seq.is_not(None))
    if start is not None:
        query = query.where(cash_sessions.c.business_date >= start)
    if end is not None:
        query = query.where(cash_sessions.c.business_date <= end)
    if store_id is not None:
        query = query.where(cash_sessions.c.store_id == store_id)
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"sessions": 0, "over_short_minor": 0, "largest_short_minor": 0})
    for row in await conn.execute(query):
        cash = int((row.over_short or {}).get("cash", 0))
        figures = sums[(row.store_id, row.opened_by)]
        figures["sessions"] += 1
        figures["over_short_minor"] += cash
        figures["largest_short_minor"] = min(figures["largest_short_minor"], cash)
    return [{"store_id": s, "cashier": c, **f} for (s, c), f in sorted(sums.items())]


async def inventory_valuation(conn: AsyncConnection, chart: Chart,
                              store_id: str | None = None) -> list[dict[str, Any]]:
    """Per store: the value of its cost positions (moving average) and its GL inventory
    balance; the two are equal by construction, and ``difference`` shows it."""
    query = sa.select(cost_positions.c.store_id,
                      sa.func.sum(cost_positions.c.value_minor).label("value"),
                      sa.func.count().label("skus")).group_by(cost_positions.c.store_id)
    gl = (sa.select(ledger_daily.c.store_id,
                    sa.func.sum(ledger_daily.c.debit_minor - ledger_daily.c.credit_minor)
                    .label("balance"))
          .where(ledger_daily.c.account_code == chart.code("inventory"))
          .group_by(ledger_daily.c.store_id))
    if store_id is not None:
        query = query.where(cost_positions.c.store_id == store_id)
        gl = gl.where(ledger_daily.c.store_id == store_id)
    values = {r.store_id: (int(r.value or 0), int(r.skus)) for r in await conn.execute(query)}
    ledger = {r.store_id: int(r.balance or 0) for r in await conn.execute(gl)}
    out = []
    for store in sorted(set(values) | set(ledger)):
        value, skus = values.get(store, (0, 0))
        out.append({"store_id": store, "skus": skus, "value_minor": value,
                    "gl_inventory_minor": ledger.get(store, 0),
                    "difference_minor": value - ledger.get(store, 0)})
    return out
