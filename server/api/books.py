"""Head-office API: the books (docs/accounting.md) — accounts, journal entries (manual and
reversing), statements and reports (JSON or CSV), exports (beancount, CSV), verification,
posting status, and closing months and years."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem, read_json_object
from server import audit, keys
from server.accounting import export, reports
from server.accounting.journal import (
    BooksRefusal,
    add_account,
    close_period,
    close_year,
    delete_account,
    manual_entry,
    parse_period,
    reverse_entry,
    set_account_active,
)
from server.accounting.nightly import NIGHTLY, run_nightly
from server.accounting.posting import post_stores
from server.accounting.verify import verify_books
from server.api.params import (
    cursor_param,
    date_param,
    date_range,
    encode_cursor,
    flag_param,
    iso_utc,
    job_run_json,
    limit_param,
    money_text,
)
from server.api.tabular import report_response
from server.auth import PRINCIPAL
from server.roles import Permission, requires
from server.storage.tables import (
    accounts,
    fiscal_periods,
    job_runs,
    journal_entries,
    journal_lines,
    posting_cursors,
    stores,
)

routes = web.RouteTableDef()


def _refused(exc: BooksRefusal) -> Problem:
    extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
    return Problem(exc.status, exc.detail, **extra)


# --- accounts ----------------------------------------------------------------------------

def _account_json(row: Any) -> dict[str, Any]:
    return {"code": row.code, "name": row.name, "type": row.type, "role": row.role,
            "active": bool(row.active), "created_at": iso_utc(row.created_at)}


@routes.get("/api/v1/accounts")
@requires(Permission.BOOKS_READ)
async def list_accounts(request: web.Request) -> web.Response:
    """The chart of accounts, with each account's posting role and whether it is active."""
    async with request.app[keys.STORAGE].read() as conn:
        rows = await conn.execute(sa.select(accounts).order_by(accounts.c.code))
        return web.json_response({"items": [_account_json(r) for r in rows]})


@routes.post("/api/v1/accounts")
@requires(Permission.BOOKS_WRITE)
async def create_account(request: web.Request) -> web.Response:
    """Add an account to the chart."""
    body = await read_json_object(request)
    async with request.app[keys.STORAGE].write() as conn:
        try:
            await add_account(conn, body.get("code"), body.get("name"), body.get("type"))
        except BooksRefusal as exc:
            raise _refused(exc) from exc
        row = (await conn.execute(sa.select(accounts).where(
            accounts.c.code == body["code"]))).one()
        await audit.record(conn, request[PRINCIPAL], "account.create", f"account:{row.code}",
                           None, {"code": row.code, "name": row.name, "type": row.type})
    return web.json_response(_account_json(row), status=201)


@routes.patch("/api/v1/accounts/{code}")
@requires(Permission.BOOKS_WRITE)
async def change_account(request: web.Request) -> web.Response:
    """Deactivate an account (or activate it again); accounts in use are never deleted."""
    body = await read_json_object(request)
    active = body.get("active")
    if not isinstance(active, bool):
        raise Problem(422, "active: true or false", field="active")
    code = request.match_info["code"]
    async with request.app[keys.STORAGE].write() as conn:
        try:
            before = await set_account_active(conn, code, active,
                                              request.app[keys.ACCOUNTING].chart)
        except BooksRefusal as exc:
            raise _refused(exc) from exc
        row = (await conn.execute(sa.select(accounts).where(accounts.c.code == code))).one()
        await audit.record(conn, request[PRINCIPAL], "account.activate" if active else
                           "account.deactivate", f"account:{code}", None, before)
    return web.json_response(_account_json(row))


@routes.delete("/api/v1/accounts/{code}")
@requires(Permission.BOOKS_WRITE)
async def remove_account(request: web.Request) -> web.Response:
    """Delete an account that was never used (one in use is refused: deactivate it)."""
    code = request.match_info["code"]
    async with request.app[keys.STORAGE].write() as conn:
        row = (await conn.execute(sa.select(accounts).where(accounts.c.code == code))).first()
        try:
            await delete_account(conn, code)
        except BooksRefusal as exc:
            raise _refused(exc) from exc
        await audit.record(conn, request[PRINCIPAL], "account.delete", f"account:{code}",
                           _account_json(row), None)
    return web.json_response({"code": code, "deleted": True})


# --- journal -----------------------------------------------------------------------------

async def _entry_json(request: web.Request, conn: Any, heads: list[Any]) -> list[Any]:
    keys_ = [h.entry_key for h in heads]
    lines: dict[str, list[dict[str, Any]]] = {k: [] for k in keys_}
    if keys_:
        for row in await conn.execute(sa.select(journal_lines).where(
                journal_lines.c.entry_key.in_(keys_)).order_by(journal_lines.c.entry_key,
                                                               journal_lines.c.line_no)):
            amount = int(row.amount_minor)
            lines[row.entry_key].append({
                "line_no": row.line_no, "account": row.account_code,
                "store_id": row.store_id or None, "sub": row.sub,
                "debit": money_text(request, amount) if amount > 0 else None,
                "credit": money_text(request, -amount) if amount < 0 else None,
                "amount_minor": amount})
    return [{"entry_key": h.entry_key, "store_id": h.store_id, "source": h.source,
             "seq": h.seq, "business_date": h.business_date.isoformat(),
             "posted_date": h.posted_date.isoformat(), "currency": h.currency,
             "memo": h.memo, "late": bool(h.late), "reverses": h.reverses_key,
             "created_by": h.created_by, "created_at": iso_utc(h.created_at),
             "lines": lines[h.entry_key]} for h in heads]


@routes.get("/api/v1/journal-entries")
@requires(Permission.BOOKS_READ)
async def list_entries(request: web.Request) -> web.Response:
    """Journal entries with their lines, in posting order, a page at a time."""
    limit, after = limit_param(request), cursor_param(request)
    start, end = date_range(request)
    query = (sa.select(journal_entries).where(journal_entries.c.id > after,
                                              journal_entries.c.line_count > 0)
             .order_by(journal_entries.c.id).limit(limit + 1))
    if start is not None:
        query = query.where(journal_entries.c.posted_date >= start)
    if end is not None:
        query = query.where(journal_entries.c.posted_date <= end)
    if store_id := request.query.get("store_id"):
        query = query.where(journal_entries.c.store_id == store_id)
    if source := request.query.get("source"):
        query = query.where(journal_entries.c.source == source)
    async with request.app[keys.STORAGE].read() as conn:
        heads = list(await conn.execute(query))
        more = len(heads) > limit
        heads = heads[:limit]
        items = await _entry_json(request, conn, heads)
    return web.json_response({"items": items, "next_cursor": encode_cursor(heads[-1].id)
                              if more else None})


@routes.get("/api/v1/journal-entries/{entry_key}")
@requires(Permission.BOOKS_READ)
async def get_entry(request: web.Request) -> web.Response:
    """One journal entry (``S001:42`` for a store event, ``manual:ID``, ``reversal:KEY``)."""
    key = request.match_info["entry_key"]
    async with request.app[keys.STORAGE].read() as conn:
        heads = list(await conn.execute(sa.select(journal_entries).where(
            journal_entries.c.entry_key == key)))
        if not heads or heads[0].line_count == 0:
            raise Problem(404, f"no journal entry {key}")
        [item] = await _entry_json(request, conn, heads)
    return web.json_response(item)


@routes.post("/api/v1/journal-entries")
@requires(Permission.BOOKS_WRITE)
async def post_manual_entry(request: web.Request) -> web.Response:
    """A manual entry: balanced lines, a memo saying why, an open month."""
    body = await read_json_object(request)
    principal = request[PRINCIPAL]
    async with request.app[keys.STORAGE].write() as conn:
        try:
            posted = await manual_entry(conn, body, request.app[keys.SETTINGS].chain.currency,
                                        principal.name, request.app[keys.ACCOUNTING].chart)
        except BooksRefusal as exc:
            raise _refused(exc) from exc
        await audit.record(conn, principal, "journal.manual_entry", f"journal:{posted.key}",
                           None, {"memo": body["memo"], "business_date": body["business_date"],
                                  "lines": body["lines"]})
        [item] = await _entry_json(request, conn, list(await conn.execute(
            sa.select(journal_entries).where(journal_entries.c.entry_key == posted.key))))
    return web.json_response(item, status=201)


@routes.post("/api/v1/journal-entries/{entry_key}/reverse")
@requires(Permission.BOOKS_WRITE)
async def reverse(request: web.Request) -> web.Response:
    """Post the reversing entry of a posted one (posted entries never change)."""
    body = await read_json_object(request)
    key = request.match_info["entry_key"]
    memo = body.get("memo")
    if not isinstance(memo, str):
        raise Problem(422, "memo: say why, in 1-500 characters", field="memo")
    try:
        when = date.fromisoformat(str(body.get("business_date")))
    except ValueError:
        raise Problem(422, "business_date: a date YYYY-MM-DD", field="business_date") from None
    principal = request[PRINCIPAL]
    async with request.app[keys.STORAGE].write() as conn:
        try:
            posted = await reverse_entry(conn, key, when, memo, principal.name)
        except BooksRefusal as exc:
            raise _refused(exc) from exc
        await audit.record(conn, principal, "journal.reverse", f"journal:{key}", None,
                           {"reversal": posted.key, "memo": memo})
        [item] = await _entry_json(request, conn, list(await conn.execute(
            sa.select(journal_entries).where(journal_entries.c.entry_key == posted.key))))
    return web.json_response(item, status=201)


# --- statements and reports --------------------------------------------------------------

def _balance_row(request: web.Request, b: reports.AccountBalance, sign: int = 1,
                 with_sub: bool = False) -> dict[str, Any]:
    amount = sign * b.balance_minor
    row = {"code": b.code, "name": b.name, "type": b.type, "currency": b.currency,
           "amount": money_text(request, amount), "amount_minor": amount}
    if with_sub:
        row["sub"] = b.sub
    return row


@routes.get("/api/v1/books/trial-balance")
@requires(Permission.BOOKS_READ)
async def trial_balance(request: web.Request) -> web.Response:
    """Every account's balance at a date (default: today and everything before), in a debit
    or a credit column; the two columns total the same."""
    as_of = date_param(request, "as_of")
    by_sub = bool(flag_param(request, "by_sub"))
    store_id = request.query.get("store_id")
    async with request.app[keys.STORAGE].read() as conn:
        rows = await reports.trial_balance(conn, as_of, store_id, by_sub)
    items = []
    for b in rows:
        balance = b.balance_minor
        items.append({"code": b.code, "name": b.name, "type": b.type, "sub": b.sub,
                      "currency": b.currency,
                      "debit": money_text(request, balance) if balance > 0 else None,
                      "credit": money_text(request, -balance) if balance < 0 else None,
                      "balance_minor": balance})
    debits = sum(b.balance_minor for b in rows if b.balance_minor > 0)
    credits = -sum(b.balance_minor for b in rows if b.balance_minor < 0)
    return report_response(
        request, "trial-balance",
        ["code", "name", "type", "sub", "currency", "debit", "credit", "balance_minor"], items,
        {"as_of": (as_of or datetime.now(UTC).date()).isoformat(), "store_id": store_id,
         "total_debit": money_text(request, debits), "total_credit": money_text(request, credits),
         "balanced": debits == credits})


@routes.get("/api/v1/books/income-statement")
@requires(Permission.BOOKS_READ)
async def income_statement(request: web.Request) -> web.Response:
    """Profit and loss over posting dates ``from``..``to``: revenue (credit positive, returns
    and discounts reducing it) and expenses (debit positive), and the net income."""
    start, end = date_range(request)
    store_id = request.query.get("store_id")
    async with request.app[keys.STORAGE].read() as conn:
        rows = await reports.income_statement(conn, start, end, store_id)
    items = [{"section": "revenue" if b.type == "revenue" else "expenses",
              **_balance_row(request, b, -1 if b.type == "revenue" else 1)} for b in rows]
    revenue = -sum(b.balance_minor for b in rows if b.type == "revenue")
    expenses = sum(b.balance_minor for b in rows if b.type == "expense")
    return report_response(
        request, "income-statement",
        ["section", "code", "name", "type", "currency", "amount", "amount_minor"], items,
        {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
         "store_id": store_id, "revenue": money_text(request, revenue),
         "expenses": money_text(request, expenses),
         "net_income": money_text(request, revenue - expenses),
         "net_income_minor": revenue - expenses})


@routes.get("/api/v1/books/balance-sheet")
@requires(Permission.BOOKS_READ)
async def balance_sheet(request: web.Request) -> web.Response:
    """Assets (debit positive), liabilities and equity (credit positive) at a date, with the
    earnings not yet closed into retained earnings; assets = liabilities + equity."""
    as_of = date_param(request, "as_of")
    store_id = request.query.get("store_id")
    async with request.app[keys.STORAGE].read() as conn:
        rows, unclosed = await reports.balance_sheet(conn, as_of, store_id)
    items = [{"section": b.type, **_balance_row(request, b, 1 if b.type == "asset" else -1)}
             for b in rows]
    assets = sum(b.balance_minor for b in rows if b.type == "asset")
    claims = -sum(b.balance_minor for b in rows if b.type != "asset") + unclosed
    return report_response(
        request, "balance-sheet",
        ["section", "code", "name", "type", "currency", "amount", "amount_minor"], items,
        {"as_of": (as_of or datetime.now(UTC).date()).isoformat(), "store_id": store_id,
         "assets": money_text(request, assets),
         "liabilities_and_equity": money_text(request, claims),
         "unclosed_earnings": money_text(request, unclosed), "balanced": assets == claims})


def _gl_cursor(request: web.Request) -> tuple[tuple[date, str, int] | None, int | None]:
    text = request.query.get("cursor")
    if not text:
        return None, None
    try:
        day, key, line_no, running = base64.urlsafe_b64decode(
            text + "=" * (-len(text) % 4)).decode().split("|")
        if not (line_no.isascii() and line_no.isdigit()) or len(line_no) > 9 or \
                abs(int(running)) >= 2**63:
            raise ValueError(text)
        return (date.fromisoformat(day), key, int(line_no)), int(running)
    except ValueError:
        raise Problem(400, "cursor is not one this API issued; pass next_cursor from the "
                           "previous page", field="cursor") from None


@routes.get("/api/v1/books/ledger/{code}")
@requires(Permission.BOOKS_READ)
async def general_ledger(request: web.Request) -> web.Response:
    """One account's lines in posting order with a running balance (debit positive) from the
    balance brought forward, a page at a time."""
    code = request.match_info["code"]
    start, end = date_range(request)
    limit = limit_param(request)
    after, running = _gl_cursor(request)
    store_id = request.query.get("store_id")
    async with request.app[keys.STORAGE].read() as conn:
        account = (await conn.execute(sa.select(accounts).where(accounts.c.code == code))
                   ).first()
        if account is None:
            raise Problem(404, f"no account {code}")
        opening = await reports.opening_balance(conn, code, start, store_id)
        if running is None:
            running = opening
        rows = await reports.ledger_lines(conn, code, start=start, end=end, store_id=store_id,
                                          after=after, limit=limit + 1)
    more = len(rows) > limit
    items = []
    for row in rows[:limit]:
        running += int(row.amount_minor)
        items.append({"posted_date": row.posted_date.isoformat(),
                      "business_date": row.business_date.isoformat(),
                      "entry_key": row.entry_key, "source": row.source, "memo": row.memo,
                      "store_id": row.store_id or None, "sub": row.sub,
                      "amount": money_text(request, int(row.amount_minor)),
                      "amount_minor": int(row.amount_minor),
                      "balance": money_text(request, running), "balance_minor": running,
                      "late": bool(row.late)})
    cursor = None
    if more:
        last = rows[limit - 1]
        cursor = base64.urlsafe_b64encode(
            f"{last.posted_date.isoformat()}|{last.entry_key}|{last.line_no}|{running}".encode()
        ).decode().rstrip("=")
    return web.json_response({"account": _account_json(account), "store_id": store_id,
                              "opening_balance": money_text(request, opening),
                              "items": items, "next_cursor": cursor})


@routes.get("/api/v1/books/sales-tax")
@requires(Permission.BOOKS_READ)
async def sales_tax(request: web.Request) -> web.Response:
    """Per tax rate over posting dates: net sales and the tax owed (collected less
    refunded)."""
    start, end = date_range(request)
    store_id = request.query.get("store_id")
    async with request.app[keys.STORAGE].read() as conn:
        rows = await reports.sales_tax(conn, request.app[keys.ACCOUNTING].chart, start, end,
                                       store_id)
    items = [{"rate": r["rate"], "currency": r["currency"],
              "net_sales": money_text(request, r["net_sales"]),
              "tax": money_text(request, r["tax"]), "net_sales_minor": r["net_sales"],
              "tax_minor": r["tax"]} for r in rows]
    return report_response(request, "sales-tax", ["rate", "currency", "net_sales", "tax",
                                                  "net_sales_minor", "tax_minor"], items)


@routes.get("/api/v1/books/cash-over-short")
@requires(Permission.BOOKS_READ)
async def cash_over_short(request: web.Request) -> web.Response:
    """Per store and cashier: closed till sessions, cash over (+) or short (−), and the
    largest single shortage, over business dates."""
    start, end = date_range(request)
    async with request.app[keys.STORAGE].read() as conn:
        rows = await reports.cash_over_short(conn, start, end, request.query.get("store_id"))
    items = [{**r, "over_short": money_text(request, r["over_short_minor"]),
              "largest_short": money_text(request, r["largest_short_minor"])} for r in rows]
    return report_response(request, "cash-over-short",
                           ["store_id", "cashier", "sessions", "over_short", "largest_short",
                            "over_short_minor", "largest_short_minor"], items)


@routes.get("/api/v1/books/inventory-valuation")
@requires(Permission.BOOKS_READ)
async def inventory_valuation(request: web.Request) -> web.Response:
    """Per store: stock at moving-average cost beside the GL inventory account (equal)."""
    async with request.app[keys.STORAGE].read() as conn:
        rows = await reports.inventory_valuation(conn, request.app[keys.ACCOUNTING].chart,
                                                 request.query.get("store_id"))
    items = [{**r, "value": money_text(request, r["value_minor"]),
              "gl_inventory": money_text(request, r["gl_inventory_minor"])} for r in rows]
    return report_response(request, "books-inventory-valuation",
                           ["store_id", "skus", "value", "gl_inventory", "value_minor",
                            "gl_inventory_minor", "difference_minor"], items)


@routes.get("/api/v1/books/export")
@requires(Permission.BOOKS_READ)
async def export_books(request: web.Request) -> web.StreamResponse:
    """The books as a beancount ledger (``format=beancount``, accepted by bean-check) or CSV
    journal lines (``format=csv``), whole or for posting dates ``from``..``to``."""
    fmt = request.query.get("format", "beancount")
    if fmt not in ("beancount", "csv"):
        raise Problem(400, f"format must be beancount or csv, got {fmt!r}", field="format")
    start, end = date_range(request)
    suffix = "csv" if fmt == "csv" else "beancount"
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8" if fmt == "csv"
        else "text/plain; charset=utf-8",
        "Content-Disposition": f'attachment; filename="books.{suffix}"'})
    await response.prepare(request)
    async with request.app[keys.STORAGE].read() as conn:
        chunks = export.csv_lines(conn, start, end) if fmt == "csv" else \
            export.beancount(conn, request.app[keys.SETTINGS].chain.currency, start, end)
        async for chunk in chunks:
            await response.write(chunk.encode())
    await response.write_eof()
    return response


@routes.post("/api/v1/books/verify")
@requires(Permission.BOOKS_READ)
async def verify(request: web.Request) -> web.Response:
    """Recompute the books from the raw events and compare with what is posted; every
    difference is listed (``ok`` only when there is none)."""
    started = datetime.now(UTC)
    async with request.app[keys.STORAGE].read() as conn:
        result = await verify_books(conn, request.app[keys.ACCOUNTING].chart,
                                    request.query.get("store_id"))
    return web.json_response({"ok": result.ok, "events": result.events,
                              "entries": result.entries, "differences": result.differences,
                              "started_at": started.isoformat(),
                              "seconds": round((datetime.now(UTC) - started).total_seconds(),
                                               3)})


@routes.get("/api/v1/books/posting")
@requires(Permission.BOOKS_READ)
async def posting_status(request: web.Request) -> web.Response:
    """Per store: events held, events posted, and an event the books are stuck on."""
    async with request.app[keys.STORAGE].read() as conn:
        rows = await conn.execute(
            sa.select(stores.c.store_id, stores.c.high_water, posting_cursors.c.posted_through,
                      posting_cursors.c.stuck_seq, posting_cursors.c.stuck_reason)
            .select_from(stores.outerjoin(posting_cursors,
                                          posting_cursors.c.store_id == stores.c.store_id))
            .order_by(stores.c.store_id))
        items = [{"store_id": r.store_id, "held_through": int(r.high_water),
                  "posted_through": int(r.posted_through or 0),
                  "pending": int(r.high_water) - int(r.posted_through or 0),
                  "stuck_seq": r.stuck_seq, "stuck_reason": r.stuck_reason} for r in rows]
    return web.json_response({"items": items})


@routes.post("/api/v1/books/post-pending")
@requires(Permission.BOOKS_WRITE)
async def post_pending_events(request: web.Request) -> web.Response:
    """Post every store's events the books have not reached (retrying stuck ones)."""
    storage = request.app[keys.STORAGE]
    async with storage.read() as conn:
        store_ids = [r.store_id for r in await conn.execute(sa.select(stores.c.store_id))]
    posted, failed = await post_stores(storage, request.app[keys.ACCOUNTING], store_ids)
    return web.json_response({"posted": posted, "failed": failed})


# --- the nightly job ---------------------------------------------------------------------

@routes.get("/api/v1/books/jobs")
@requires(Permission.BOOKS_READ)
async def list_job_runs(request: web.Request) -> web.Response:
    """The nightly job's recent runs, newest first: when, which process, how long, the
    outcome (ok, differences, failed) and what it did."""
    limit = limit_param(request)
    async with request.app[keys.STORAGE].read() as conn:
        rows = await conn.execute(sa.select(job_runs).where(job_runs.c.job == NIGHTLY)
                                  .order_by(job_runs.c.id.desc()).limit(limit))
        return web.json_response({"items": [job_run_json(r) for r in rows]})


@routes.post("/api/v1/books/jobs/nightly/run")
@requires(Permission.BOOKS_WRITE)
async def run_nightly_now(request: web.Request) -> web.Response:
    """Run the nightly job now (post pending, close store days, verify) and answer what it
    did."""
    slot = f"manual-{datetime.now(UTC).isoformat()}"
    result = await run_nightly(request.app[keys.STORAGE], request.app[keys.ACCOUNTING], slot)
    if result is None:
        raise Problem(409, "a run for this moment is already under way; try again")
    return web.json_response({"slot": slot, **result})


# --- periods -----------------------------------------------------------------------------

@routes.get("/api/v1/fiscal-periods")
@requires(Permission.BOOKS_READ)
async def list_periods(request: web.Request) -> web.Response:
    """The closed months (a month not listed is open)."""
    async with request.app[keys.STORAGE].read() as conn:
        rows = await conn.execute(sa.select(fiscal_periods).order_by(fiscal_periods.c.period))
        return web.json_response({"items": [
            {"period": r.period, "status": r.status, "closed_at": iso_utc(r.closed_at),
             "closed_by": r.closed_by} for r in rows]})


@routes.post("/api/v1/fiscal-periods/{period}/close")
@requires(Permission.BOOKS_WRITE)
async def close_month(request: web.Request) -> web.Response:
    """Close a month that has ended; it never changes again (late events post into the first
    open month, flagged)."""
    period = request.match_info["period"]
    principal = request[PRINCIPAL]
    async with request.app[keys.STORAGE].write() as conn:
        try:
            parse_period(period)
            await close_period(conn, period, datetime.now(UTC).date(), principal.name)
        except BooksRefusal as exc:
            raise _refused(exc) from exc
        await audit.record(conn, principal, "period.close", f"period:{period}", None,
                           {"period": period, "status": "closed"})
    return web.json_response({"period": period, "status": "closed",
                              "closed_by": principal.name}, status=201)


@routes.post("/api/v1/fiscal-years/{year}/close")
@requires(Permission.BOOKS_WRITE)
async def close_fiscal_year(request: web.Request) -> web.Response:
    """Close a year's revenue and expenses into retained earnings (all its months closed)."""
    text = request.match_info["year"]
    if not (text.isascii() and text.isdigit()) or not 1900 <= int(text) <= 9999:
        raise Problem(400, f"year must be a four-digit year, got {text!r}", field="year")
    principal = request[PRINCIPAL]
    async with request.app[keys.STORAGE].write() as conn:
        try:
            posted = await close_year(conn, int(text), request.app[keys.ACCOUNTING].chart,
                                      principal.name)
        except BooksRefusal as exc:
            raise _refused(exc) from exc
        await audit.record(conn, principal, "year.close", f"year:{text}", None,
                           {"year": int(text), "entry": posted.key})
    return web.json_response({"year": int(text), "closed": True}, status=201)
