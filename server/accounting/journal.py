"""What finance does to the books by hand: manual entries, reversing entries, accounts added
or deactivated, months closed and years closed into retained earnings. Each checks its input
and raises :class:`BooksRefusal` (a 4xx for the API, a message for the command line) before
anything is written; the caller's transaction writes it whole with its audit entry.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounting.chart import Chart, check_account
from server.accounting.posting import (
    closed_for_writing,
    closed_periods,
    lock_periods,
    write_entries,
)
from server.accounting.reports import ledger_sums
from server.accounting.rules import Draft, Line, consolidate
from server.storage.tables import (
    accounts,
    fiscal_periods,
    journal_entries,
    journal_lines,
    stores,
)
from sync.money import exponent_of

MAX_LINES = 500
_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_SUB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class BooksRefusal(Exception):
    """Input the books refuse, with the status an API answers and the field at fault."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


@dataclass(frozen=True, slots=True)
class Posted:
    key: str
    posted_date: date


def _amount(value: Any, currency: str, where: str) -> int:
    """A decimal string (or integer) of the currency, in minor units; never a float."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BooksRefusal(422, f"{where}: a decimal string such as \"12.50\"", where)
    try:
        number = Decimal(str(value))
        if not number.is_finite() or abs(number) >= Decimal(10) ** 13:
            raise BooksRefusal(422, f"{where}: {value!r} is not an amount this book can hold",
                               where)
        exponent = exponent_of(currency)
        minor = number.scaleb(exponent)
    except (InvalidOperation, ArithmeticError, ValueError):
        raise BooksRefusal(422, f"{where}: {value!r} is not a number", where) from None
    if minor != minor.to_integral_value():
        raise BooksRefusal(422, f"{where}: {value!r} has more than {exponent} decimal places "
                                f"for {currency}", where)
    if number < 0:
        raise BooksRefusal(422, f"{where}: give a positive amount in debit or credit", where)
    return int(minor)


async def _active_accounts(conn: AsyncConnection) -> dict[str, bool]:
    return {r.code: bool(r.active) for r in await conn.execute(
        sa.select(accounts.c.code, accounts.c.active))}


async def manual_entry(conn: AsyncConnection, body: dict[str, Any], currency: str,
                       actor: str, chart: Chart) -> Posted:
    """A manual journal entry: ``{"entry_id", "business_date", "memo", "lines": [{"account",
    "debit" | "credit", "store_id"?, "sub"?}]}``, balanced, into an open month."""
    entry_id = body.get("entry_id")
    if not isinstance(entry_id, str) or not _SUB.fullmatch(entry_id):
        raise BooksRefusal(422, "entry_id: 1-64 letters, digits, '.', '_' or '-' (your "
                                "reference; sending the same one twice posts once)", "entry_id")
    memo = body.get("memo")
    if not isinstance(memo, str) or not memo.strip() or len(memo) > 500:
        raise BooksRefusal(422, "memo: say why, in 1-500 characters", "memo")
    try:
        business_date = date.fromisoformat(str(body.get("business_date")))
    except ValueError:
        raise BooksRefusal(422, "business_date: a date YYYY-MM-DD", "business_date") from None
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not 2 <= len(raw_lines) <= MAX_LINES:
        raise BooksRefusal(422, f"lines: 2 to {MAX_LINES} lines", "lines")
    known = await _active_accounts(conn)
    goods = {chart.code("inventory"), chart.code("in_transit")}
    stores_known = {r.store_id for r in await conn.execute(sa.select(stores.c.store_id))}
    lines = []
    for index, raw in enumerate(raw_lines):
        where = f"lines[{index}]"
        if not isinstance(raw, dict):
            raise BooksRefusal(422, f"{where}: an object with account and debit or credit",
                               where)
        code = raw.get("account")
        if not isinstance(code, str) or code not in known:
            raise BooksRefusal(422, f"{where}.account: {code!r} is not an account in the chart",
                               f"{where}.account")
        if not known[code]:
            raise BooksRefusal(422, f"{where}.account: {code} is deactivated",
                               f"{where}.account")
        if code in goods:
            raise BooksRefusal(422, f"{where}.account: {code} moves only with the stores' "
                                    "stock events (receipts, adjustments, counts, transfers), "
                                    "so that it always equals the stock valuation; record the "
                                    "movement at the store instead", f"{where}.account")
        if ("debit" in raw) == ("credit" in raw):
            raise BooksRefusal(422, f"{where}: give exactly one of debit or credit", where)
        side = "debit" if "debit" in raw else "credit"
        amount = _amount(raw[side], currency, f"{where}.{side}")
        if amount == 0:
            raise BooksRefusal(422, f"{where}.{side}: must not be zero", f"{where}.{side}")
        sub = raw.get("sub", "")
        if not isinstance(sub, str) or (sub and not _SUB.fullmatch(sub)):
            raise BooksRefusal(422, f"{where}.sub: 1-64 letters, digits, '.', '_' or '-'",
                               f"{where}.sub")
        store = raw.get("store_id")
        if store is not None and (not isinstance(store, str) or store not in stores_known):
            raise BooksRefusal(422, f"{where}.store_id: {store!r} is not an enrolled store",
                               f"{where}.store_id")
        lines.append((store, Line(code, amount if side == "debit" else -amount, sub)))
    total = sum(line.amount_minor for _, line in lines)
    if total:
        debits = sum(ln.amount_minor for _, ln in lines if ln.amount_minor > 0)
        raise BooksRefusal(422, f"lines: debits ({debits}) and credits ({debits - total}) "
                                "differ, in minor units; an entry must balance", "lines")
    entry_stores = {store for store, _ in lines}
    if len(entry_stores) > 1:
        raise BooksRefusal(422, "lines: one store per entry (or none for chain-level "
                                "entries); post one entry per store", "lines")
    closed = await closed_for_writing(conn)
    if business_date.strftime("%Y-%m") in closed:
        raise BooksRefusal(409, f"business_date: {business_date:%Y-%m} is closed; date the "
                                "correction in an open month", "business_date")
    key = f"manual:{entry_id}"
    if await _exists(conn, key):
        raise BooksRefusal(409, f"entry_id: {entry_id} is already posted", "entry_id")
    draft = Draft(key=key, store_id=entry_stores.pop(), business_date=business_date,
                  currency=currency, source="manual", memo=memo.strip(),
                  lines=consolidate(line for _, line in lines))
    [posted] = await write_entries(conn, [draft], created_by=actor, closed=closed)
    return Posted(key, posted)


async def _exists(conn: AsyncConnection, key: str) -> bool:
    return (await conn.execute(sa.select(journal_entries.c.id).where(
        journal_entries.c.entry_key == key))).first() is not None


async def reverse_entry(conn: AsyncConnection, key: str, business_date: date, memo: str,
                        actor: str) -> Posted:
    """A reversing entry for ``key``: every line negated, referencing it."""
    original = (await conn.execute(sa.select(journal_entries).where(
        journal_entries.c.entry_key == key))).first()
    if original is None:
        raise BooksRefusal(404, f"no journal entry {key}")
    if original.reverses_key is not None:
        raise BooksRefusal(409, f"{key} is itself a reversal; post a new entry instead")
    if original.seq is not None:
        raise BooksRefusal(409, f"{key} was posted from a store event; the store corrects it "
                                "(a void, a return, a stock adjustment), which posts the "
                                "mirror, so the books stay equal to the store's ledger")
    if original.source == "year_close":
        raise BooksRefusal(409, f"{key} closes a year; a closed year is not reopened")
    reversal = f"reversal:{key}"
    if await _exists(conn, reversal):
        raise BooksRefusal(409, f"{key} is already reversed (by {reversal})")
    if not memo.strip() or len(memo) > 500:
        raise BooksRefusal(422, "memo: say why, in 1-500 characters", "memo")
    closed = await closed_for_writing(conn)
    if business_date.strftime("%Y-%m") in closed:
        raise BooksRefusal(409, f"business_date: {business_date:%Y-%m} is closed",
                           "business_date")
    lines = [Line(r.account_code, -int(r.amount_minor), r.sub) for r in await conn.execute(
        sa.select(journal_lines).where(journal_lines.c.entry_key == key)
        .order_by(journal_lines.c.line_no))]
    draft = Draft(key=reversal, store_id=original.store_id, business_date=business_date,
                  currency=original.currency, source="reversal",
                  memo=f"reverses {key}: {memo.strip()}", lines=tuple(lines))
    [posted] = await write_entries(conn, [draft], created_by=actor, reverses={reversal: key},
                                   closed=closed)
    return Posted(reversal, posted)


# --- accounts ----------------------------------------------------------------------------

async def add_account(conn: AsyncConnection, code: Any, name: Any, type_: Any) -> None:
    if not all(isinstance(v, str) for v in (code, name, type_)):
        raise BooksRefusal(422, "code, name and type are strings")
    problem = check_account(code, name, type_)
    if problem:
        raise BooksRefusal(422, problem, problem.split(":")[0])
    if (await conn.execute(sa.select(accounts.c.code).where(accounts.c.code == code))).first():
        raise BooksRefusal(409, f"code: account {code} already exists", "code")
    await conn.execute(accounts.insert().values(code=code, name=name.strip(), type=type_,
                                                role=None, active=True,
                                                created_at=datetime.now(UTC)))


async def account_in_use(conn: AsyncConnection, code: str) -> bool:
    return (await conn.execute(sa.select(journal_lines.c.line_no).where(
        journal_lines.c.account_code == code).limit(1))).first() is not None


async def set_account_active(conn: AsyncConnection, code: str, active: bool,
                             chart: Chart) -> dict[str, Any]:
    row = (await conn.execute(sa.select(accounts).where(accounts.c.code == code))).first()
    if row is None:
        raise BooksRefusal(404, f"no account {code}")
    if not active and row.role is not None:
        raise BooksRefusal(409, f"account {code} holds the posting role {row.role}; store "
                                "events post to it, so it cannot be deactivated")
    await conn.execute(accounts.update().where(accounts.c.code == code).values(active=active))
    return {"code": code, "active": active}


async def delete_account(conn: AsyncConnection, code: str) -> None:
    row = (await conn.execute(sa.select(accounts).where(accounts.c.code == code))).first()
    if row is None:
        raise BooksRefusal(404, f"no account {code}")
    if row.role is not None or await account_in_use(conn, code):
        raise BooksRefusal(409, f"account {code} is in use; an account in use is never "
                                "deleted — deactivate it (PATCH active=false)")
    await conn.execute(accounts.delete().where(accounts.c.code == code))


# --- periods -----------------------------------------------------------------------------

def parse_period(text: str) -> tuple[int, int]:
    match = _PERIOD.fullmatch(text)
    if match is None or int(match.group(1)) < 1900:
        raise BooksRefusal(400, f"period must be YYYY-MM (from 1900), got {text!r}", "period")
    return int(match.group(1)), int(match.group(2))


async def close_period(conn: AsyncConnection, period: str, today: date, actor: str) -> None:
    """Close a month that has ended. A closed month never opens again; whatever arrives for
    it later posts into the first open month, flagged late."""
    year, month = parse_period(period)
    await lock_periods(conn, exclusive=True)
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    if last_day >= today:
        raise BooksRefusal(409, f"{period} has not ended yet (it ends {last_day})", "period")
    if period in await closed_periods(conn):
        raise BooksRefusal(409, f"{period} is already closed", "period")
    await conn.execute(fiscal_periods.insert().values(
        period=period, status="closed", closed_at=datetime.now(UTC), closed_by=actor))


async def close_year(conn: AsyncConnection, year: int, chart: Chart, actor: str) -> Posted:
    """Close the year's revenue and expense into retained earnings, per store and currency,
    in one entry dated the year's last day. Every month of the year must be closed first."""
    await lock_periods(conn, exclusive=True)
    closed = await closed_periods(conn)
    open_months = [f"{year}-{m:02d}" for m in range(1, 13) if f"{year}-{m:02d}" not in closed]
    if open_months:
        raise BooksRefusal(409, f"close every month of {year} first; open: "
                                f"{', '.join(open_months)}", "year")
    key = f"close:{year}"
    if (await conn.execute(sa.select(journal_entries.c.id).where(
            journal_entries.c.source == "year_close",
            journal_entries.c.business_date == date(year, 12, 31)).limit(1))).first():
        raise BooksRefusal(409, f"{year} is already closed into retained earnings", "year")

    types = {r.code: r.type for r in await conn.execute(sa.select(accounts.c.code,
                                                                  accounts.c.type))}
    rows = await ledger_sums(conn, start=date(year, 1, 1), through=date(year, 12, 31))
    per_store: dict[tuple[str, str], list[Line]] = {}
    for row in rows:
        if types.get(row.account_code) not in ("revenue", "expense") or not row.balance:
            continue
        lines = per_store.setdefault((row.store_id, row.currency), [])
        lines.append(Line(row.account_code, -int(row.balance), row.sub))
    drafts = []
    for (store, currency), lines in sorted(per_store.items()):
        earnings = -sum(line.amount_minor for line in lines)
        lines.append(Line(chart.code("retained_earnings"), earnings))
        drafts.append(Draft(key=f"{key}:{store or 'chain'}:{currency}", store_id=store or None,
                            business_date=date(year, 12, 31), currency=currency,
                            source="year_close", memo=f"{year} closed into retained earnings",
                            lines=consolidate(lines)))
    # Closing entries are the one thing dated inside a closed month: the year's last day.
    await write_entries(conn, drafts, created_by=actor, closed=set())
    return Posted(key, date(year, 12, 31))
