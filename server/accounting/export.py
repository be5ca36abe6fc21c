"""The books for external accountants: a plain-text ledger in beancount syntax (accepted by
``bean-check``) and CSV journal lines, whole or for a range of posting dates, written in
chunks so a year of books never sits in memory.

Beancount account names are built from the chart: the type's root (Assets, Liabilities,
Equity, Income, Expenses), the code and name (``1000-CashInTills``), then the store and the
sub-account when the line has them: ``Assets:1000-CashInTills:S001``,
``Liabilities:2100-SalesTaxPayable:S001:7``. A ranged export opens with the balances brought
forward (which balance by themselves, the books being balanced).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounting.reports import ledger_sums
from server.storage.tables import accounts, journal_entries, journal_lines, ledger_daily
from sync.money import exponent_of, format_minor

ROOTS = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity",
         "revenue": "Income", "expense": "Expenses"}
CSV_COLUMNS = ("entry_key", "posted_date", "business_date", "source", "store_id", "memo",
               "line_no", "account", "account_name", "sub", "debit", "credit", "currency")
CHUNK = 2000


def _component(text: str) -> str:
    """A beancount account component: starts with a capital or a digit; letters, digits and
    dashes."""
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "X"
    return cleaned[0].upper() + cleaned[1:]


def _camel(name: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", name))


class AccountNames:
    """Beancount account names from the chart, one name per (code, store, sub-account): two
    sub-accounts that would clean up to the same component (``8.875`` and ``8-875``) get a
    short hash to keep them apart."""

    def __init__(self, chart_rows: list[Any]) -> None:
        self._base = {r.code: f"{ROOTS[r.type]}:{_component(r.code + '-' + _camel(r.name))}"
                      for r in chart_rows}
        self.names = {r.code: r.name for r in chart_rows}
        self._made: dict[tuple[str, str, str], str] = {}
        self._taken: set[str] = set()

    def __call__(self, code: str, store: str, sub: str) -> str:
        key = (code, store, sub)
        name = self._made.get(key)
        if name is None:
            parts = [self._base.get(code, f"Assets:{_component(code)}")]
            if store:
                parts.append(_component(store))
            if sub:
                parts.append(_component(sub))
            name = ":".join(parts)
            if name in self._taken:
                name += "-" + hashlib.sha256("|".join(key).encode()).hexdigest()[:6]
            self._taken.add(name)
            self._made[key] = name
        return name


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


async def _account_names(conn: AsyncConnection) -> AccountNames:
    return AccountNames(list(await conn.execute(
        sa.select(accounts.c.code, accounts.c.name, accounts.c.type))))


async def _entries(conn: AsyncConnection, start: date | None,
                   end: date | None) -> AsyncIterator[tuple[Any, list[Any]]]:
    """(entry, its lines) in posting order of insertion, a chunk at a time."""
    last = 0
    while True:
        query = (sa.select(journal_entries).where(journal_entries.c.id > last,
                                                  journal_entries.c.line_count > 0)
                 .order_by(journal_entries.c.id).limit(CHUNK))
        if start is not None:
            query = query.where(journal_entries.c.posted_date >= start)
        if end is not None:
            query = query.where(journal_entries.c.posted_date <= end)
        heads = list(await conn.execute(query))
        if not heads:
            return
        last = heads[-1].id
        grouped: dict[str, list[Any]] = {h.entry_key: [] for h in heads}
        for row in await conn.execute(sa.select(journal_lines).where(
                journal_lines.c.entry_key.in_(list(grouped)))
                .order_by(journal_lines.c.entry_key, journal_lines.c.line_no)):
            grouped[row.entry_key].append(row)
        for head in heads:
            yield head, grouped[head.entry_key]


async def _used_accounts(conn: AsyncConnection, end: date | None) -> list[Any]:
    query = sa.select(ledger_daily.c.account_code, ledger_daily.c.store_id, ledger_daily.c.sub,
                      sa.func.min(ledger_daily.c.posted_date).label("first")).group_by(
        ledger_daily.c.account_code, ledger_daily.c.store_id, ledger_daily.c.sub)
    if end is not None:
        query = query.where(ledger_daily.c.posted_date <= end)
    return list(await conn.execute(query))


async def beancount(conn: AsyncConnection, currency: str, start: date | None = None,
                    end: date | None = None) -> AsyncIterator[str]:
    """The books as beancount text, in chunks."""
    name = await _account_names(conn)
    yield (f'option "title" "retail-backoffice books"\noption "operating_currency" '
           f'"{currency}"\n\n')
    used = await _used_accounts(conn, end)
    opened_on: dict[str, date] = {}
    for row in sorted(used, key=lambda r: (r.account_code, r.store_id, r.sub)):
        when = min(row.first, start) if start else row.first
        account = name(row.account_code, row.store_id, row.sub)
        opened_on[account] = min(when, opened_on.get(account, when))
    yield "".join(f"{when.isoformat()} open {account}\n"
                  for account, when in sorted(opened_on.items())) + "\n"
    if start is not None:
        forward = [r for r in await ledger_sums(conn, through=start - timedelta(days=1))
                   if r.balance]
        if forward:
            postings = "".join(f"  {name(r.account_code, r.store_id, r.sub)}  "
                               f"{format_minor(int(r.balance), exponent_of(r.currency))} "
                               f"{r.currency}\n" for r in forward)
            yield f'{start.isoformat()} * "Balances brought forward"\n{postings}\n'
    async for head, lines in _entries(conn, start, end):
        exponent = exponent_of(head.currency)
        text = [f"{head.posted_date.isoformat()} * {_quote(head.source)} "
                f"{_quote(head.memo)}\n  entry: {_quote(head.entry_key)}\n"]
        if head.business_date != head.posted_date:
            text.append(f"  business_date: {head.business_date.isoformat()}\n")
        for line in lines:
            text.append(f"  {name(line.account_code, line.store_id, line.sub)}  "
                        f"{format_minor(int(line.amount_minor), exponent)} {line.currency}\n")
        yield "".join(text) + "\n"


async def csv_lines(conn: AsyncConnection, start: date | None = None,
                    end: date | None = None) -> AsyncIterator[str]:
    """The journal as CSV, one row per line, debit and credit as decimal strings."""
    names = (await _account_names(conn)).names
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    async for head, lines in _entries(conn, start, end):
        buffer.seek(0)
        buffer.truncate()
        exponent = exponent_of(head.currency)
        for line in lines:
            amount = int(line.amount_minor)
            writer.writerow([head.entry_key, head.posted_date.isoformat(),
                             head.business_date.isoformat(), head.source,
                             head.store_id or "", head.memo, line.line_no, line.account_code,
                             names.get(line.account_code, ""), line.sub,
                             format_minor(amount, exponent) if amount > 0 else "",
                             format_minor(-amount, exponent) if amount < 0 else "",
                             line.currency])
        yield buffer.getvalue()
