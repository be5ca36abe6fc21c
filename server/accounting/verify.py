"""``books verify``: recompute, from the raw store events alone, what the books must show —
per store, business day and tax rate (net sales and sales tax) and per tender (money taken
less money given back) — and compare it with what is posted; check every event that moves
money or goods has exactly one entry, that every entry balances, and that each store's
inventory valuation equals its GL inventory account. Every difference is reported.

The figures here are computed independently of the posting rules (a second implementation of
the same arithmetic from the event payloads), so a wrong rule shows up as a difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounting.chart import Chart
from server.accounting.reports import inventory_valuation
from server.accounting.rules import tax_rate_key
from server.storage.tables import journal_entries, journal_lines, store_events

Figures = dict[tuple[str, str, str, str], int]  # (store, day, figure, rate|tender) -> minor
Split = dict[tuple[str, str], int]  # one event's (figure, rate|tender) -> minor
CHUNK = 5000


@dataclass
class Verification:
    events: int = 0
    entries: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def expected_figures(events: Iterable[Any]) -> Figures:
    """Net sales and tax per rate, and tenders, per store and business day, from payloads.
    ``events`` are rows or StoreEvents in each store's seq order."""
    out: Figures = defaultdict(int)
    sales: dict[tuple[str, str], Split] = {}
    rates: dict[tuple[str, str], dict[int, str]] = {}
    for event in events:
        p, store = event.payload, event.store_id
        day = str(event.business_date)
        if event.kind == "sale.completed":
            mine: Split = defaultdict(int)
            inclusive = bool(p.get("prices_include_tax"))
            taxable: dict[str, int] = defaultdict(int)
            line_rates = {}
            for number, line in enumerate(p["lines"], start=1):
                taxable[tax_rate_key(line["tax_rate"])] += int(line["amount"])
                line_rates[int(line.get("line_no", number))] = tax_rate_key(line["tax_rate"])
            for tax in p["taxes"]:
                rate = tax_rate_key(tax["rate"])
                mine[("net_sales", rate)] += taxable.pop(rate, 0) - \
                    (int(tax["tax"]) if inclusive else 0)
                mine[("tax", rate)] += int(tax["tax"])
            for rate, amount in taxable.items():
                mine[("net_sales", rate)] += amount
            change = int(p.get("change_due", 0))
            for tender in p["tenders"]:
                amount = int(tender["amount"])
                if tender["type"] == "cash" and change:
                    amount, change = amount - change, 0
                mine[("tender", str(tender["type"]))] += amount
            sales[(store, str(p["sale_id"]))] = dict(mine)
            rates[(store, str(p["sale_id"]))] = line_rates
            _add(out, store, day, mine, +1)
        elif event.kind == "sale.voided":
            original = sales.get((store, str(p["sale_id"])))
            if original is not None:
                _add(out, store, day, original, -1)
        elif event.kind == "return.completed":
            known = rates.get((store, str(p.get("original_sale_id"))), {})
            mine = defaultdict(int)
            for line in p["lines"]:
                rate = tax_rate_key(line.get("tax_rate")
                                    or known.get(line.get("original_line_no"), "0"))
                mine[("net_sales", rate)] -= int(line["amount"]) - int(line["tax"])
                mine[("tax", rate)] -= int(line["tax"])
            for refund in p.get("refunds", ()):
                mine[("tender", str(refund["type"]))] -= int(refund["amount"])
            _add(out, store, day, mine, +1)
        elif event.kind == "cash.session_closed":
            out[(store, day, "tender", "cash")] += int(p.get("over_short", {}).get("cash", 0))
        elif event.kind in ("cash.paid_in", "cash.paid_out"):
            sign = 1 if event.kind == "cash.paid_in" else -1
            out[(store, day, "tender", "cash")] += sign * int(p["amount"])
    return {k: v for k, v in out.items() if v}


def _add(out: Figures, store: str, day: str, figures: Split, sign: int) -> None:
    for (figure, what), amount in figures.items():
        out[(store, day, figure, what)] += sign * amount


def posted_figures(rows: Iterable[Any], chart: Chart) -> Figures:
    """The same figures from posted journal lines of event entries."""
    revenue = {chart.code(r) for r in ("revenue", "discounts", "returns")}
    tax = chart.code("sales_tax")
    tenders = {code: tender for tender, code in chart.tenders.items()}
    clearing = chart.code("card_clearing")
    out: Figures = defaultdict(int)
    for row in rows:
        key_day = str(row.business_date)
        if row.account_code in revenue:
            out[(row.store_id, key_day, "net_sales", row.sub)] -= int(row.amount)
        elif row.account_code == tax:
            out[(row.store_id, key_day, "tax", row.sub)] -= int(row.amount)
        elif row.account_code == clearing and row.sub:
            out[(row.store_id, key_day, "tender", row.sub)] += int(row.amount)
        elif row.account_code in tenders:
            out[(row.store_id, key_day, "tender", tenders[row.account_code])] += \
                int(row.amount)
    return {k: v for k, v in out.items() if v}


async def verify_books(conn: AsyncConnection, chart: Chart,
                       store_id: str | None = None) -> Verification:
    result = Verification()
    stores = [store_id] if store_id else [r.store_id for r in await conn.execute(
        sa.select(store_events.c.store_id).distinct().order_by(store_events.c.store_id))]
    for store in stores:
        await _verify_store(conn, chart, store, result)
    for row in await inventory_valuation(conn, chart, store_id):
        if row["difference_minor"]:
            result.differences.append({
                "store_id": row["store_id"], "business_date": None,
                "figure": "inventory", "what": "valuation vs GL",
                "expected_minor": row["value_minor"], "posted_minor": row["gl_inventory_minor"]})
    return result


async def _verify_store(conn: AsyncConnection, chart: Chart, store: str,
                        result: Verification) -> None:
    events, last = [], 0
    while True:
        rows = list(await conn.execute(
            sa.select(store_events.c.store_id, store_events.c.seq, store_events.c.kind,
                      store_events.c.business_date, store_events.c.payload)
            .where(store_events.c.store_id == store, store_events.c.seq > last)
            .order_by(store_events.c.seq).limit(CHUNK)))
        if not rows:
            break
        events.extend(rows)
        last = rows[-1].seq
    result.events += len(events)
    expected = expected_figures(events)
    entries = {int(r.seq): r for r in await conn.execute(
        sa.select(journal_entries.c.seq, journal_entries.c.entry_key)
        .where(journal_entries.c.store_id == store, journal_entries.c.seq.is_not(None)))}
    result.entries += len(entries)
    for event in events:
        if int(event.seq) not in entries and _moves_money(event):
            result.differences.append({
                "store_id": store, "business_date": str(event.business_date),
                "figure": "entry", "what": f"seq {event.seq} {event.kind} is not posted",
                "expected_minor": None, "posted_minor": None})
    lines = await conn.execute(
        sa.select(journal_lines.c.store_id, journal_lines.c.business_date,
                  journal_lines.c.account_code, journal_lines.c.sub,
                  sa.func.sum(journal_lines.c.amount_minor).label("amount"))
        .join(journal_entries, journal_entries.c.entry_key == journal_lines.c.entry_key)
        .where(journal_lines.c.store_id == store, journal_entries.c.seq.is_not(None))
        .group_by(journal_lines.c.store_id, journal_lines.c.business_date,
                  journal_lines.c.account_code, journal_lines.c.sub))
    posted = posted_figures(lines, chart)
    for key in sorted(set(expected) | set(posted)):
        if expected.get(key, 0) != posted.get(key, 0):
            store_id, day, figure, what = key
            result.differences.append({"store_id": store_id, "business_date": day,
                                       "figure": figure, "what": what,
                                       "expected_minor": expected.get(key, 0),
                                       "posted_minor": posted.get(key, 0)})
    unbalanced = await conn.execute(
        sa.select(journal_lines.c.entry_key, sa.func.sum(journal_lines.c.amount_minor))
        .where(journal_lines.c.store_id == store).group_by(journal_lines.c.entry_key)
        .having(sa.func.sum(journal_lines.c.amount_minor) != 0))
    for key, total in unbalanced:
        result.differences.append({"store_id": store, "business_date": None,
                                   "figure": "balance", "what": f"entry {key}",
                                   "expected_minor": 0, "posted_minor": int(total)})


def _moves_money(event: Any) -> bool:
    """Whether an event must have an entry: money changed hands. (Stock events may value at
    zero and post nothing; the inventory check covers them.)"""
    p = event.payload
    if event.kind in ("sale.completed", "return.completed"):
        return bool(int(p.get("total", 0)))
    if event.kind == "sale.voided":
        return bool(int(p.get("total", 0)))
    if event.kind == "cash.session_closed":
        return bool(int(p.get("over_short", {}).get("cash", 0)))
    if event.kind in ("cash.paid_in", "cash.paid_out"):
        return bool(int(p.get("amount", 0)))
    return False
