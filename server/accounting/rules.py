"""Posting rules: one pure function per event kind, turning a store event into one balanced
journal entry (docs/accounting.md has each as a table with a worked example).

Amounts are signed minor units: debit positive, credit negative; an entry's lines sum to zero.
Lines carry a sub-account where an account is kept per tax rate (revenue, returns, discounts,
sales tax), per tender type (card clearing) or per transfer (in transit). The rules read and
update a :class:`Books` — the cost positions and the sale costs and transfers in flight that a
batch touches — which the posting layer loads before and saves after; nothing here does I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from server.accounting.chart import Chart
from server.accounting.costing import CostBook, share
from sync import StoreEvent
from sync.quantities import to_milli

_milli = functools.lru_cache(maxsize=4096)(to_milli)  # quantities repeat: 1, 2, 0.5 ...


@functools.lru_cache(maxsize=1024)
def tax_rate_key(rate: object) -> str:
    """A tax rate as a sub-account: the same rate always the same text ("7.0" and "7" are
    one rate, as the agent's pricing treats them)."""
    text = format(Decimal(str(rate)).normalize(), "f")
    return text if text != "-0" else "0"


_CURRENCY = re.compile(r"^[A-Z]{3}$")
_day = functools.lru_cache(maxsize=1024)(date.fromisoformat)  # a batch spans a few days


@functools.lru_cache(maxsize=64)
def _currency(value: object) -> str:
    currency = str(value)
    if not _CURRENCY.fullmatch(currency):
        raise ValueError(f"currency {currency!r} is not an ISO 4217 code")
    return currency


Posting = tuple[str, int, str]  # (account, amount, sub): what a rule emits, before summing


class Unbalanced(ValueError):
    """An entry whose lines do not sum to zero: never stored."""


class Line(NamedTuple):
    """One journal line (a named tuple: thousands are made per push batch)."""

    account: str
    amount_minor: int  # debit > 0, credit < 0
    sub: str = ""


class Draft(NamedTuple):
    """A journal entry before it is stored (a named tuple: one per event posted)."""

    key: str
    store_id: str | None
    business_date: date
    currency: str
    source: str  # the event kind, "manual", "reversal", "close" ...
    memo: str
    lines: tuple[Line, ...]
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """Something finance should look at: filed as a reconciliation item."""

    store_id: str
    seq: int
    kind: str
    detail: dict[str, Any]


@dataclass
class SaleCost:
    """What a posted sale cost, line by line, for its void or its returns."""

    seq: int
    lines: dict[int, dict[str, Any]]  # line_no -> sku, qty_milli, cost_minor, tax_rate


@dataclass
class Transit:
    """A transfer's goods on the road: value shipped and received per SKU."""

    shipped: dict[str, list[int]] | None = None  # sku -> [qty_milli, value_minor]
    received: dict[str, list[int]] | None = None
    written_off: int = 0  # moved from in transit to shrink so far


@dataclass
class Books:
    chart: Chart
    currency: str  # the chain's currency, for events that do not carry one
    costs: CostBook = field(default_factory=CostBook)
    sales: dict[tuple[str, str], SaleCost] = field(default_factory=dict)
    entries: dict[str, tuple[Line, ...]] = field(default_factory=dict)  # key -> lines (voids)
    transits: dict[str, Transit] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    new_sales: list[tuple[str, str]] = field(default_factory=list)
    changed_sales: set[tuple[str, str]] = field(default_factory=set)  # returns against them
    touched_transits: set[str] = field(default_factory=set)


def event_key(store_id: str, seq: int) -> str:
    return f"{store_id}:{seq}"


_amount = itemgetter(1)
_new_line = tuple.__new__  # Line((a, b, c)) without the named tuple's Python-level __new__


def balance_check(lines: Iterable[Posting]) -> None:
    total = sum(map(_amount, lines))
    if total:
        raise Unbalanced(f"the lines sum to {total}, not zero")


def consolidate(lines: Iterable[Posting]) -> tuple[Line, ...]:
    """One line per account and sub-account, zeros dropped, in a stable order."""
    sums: dict[tuple[str, str], int] = {}
    get = sums.get
    for account, amount, sub in lines:
        key = (account, sub)
        sums[key] = get(key, 0) + amount
    return tuple([_new_line(Line, (account, amount, sub))
                  for (account, sub), amount in sums.items() if amount])


def post_event(event: StoreEvent, books: Books) -> Draft | None:
    """The entry ``event`` posts (None when the kind moves no money or goods)."""
    rule = RULES.get(event.kind)
    if rule is None:
        return None
    lines = consolidate(rule(event, books))
    balance_check(lines)
    if not lines:
        return None
    currency = _currency(event.payload.get("currency") or books.currency)
    draft = Draft(key=event_key(event.store_id, event.seq), store_id=event.store_id,
                  business_date=_day(event.business_date),
                  currency=currency,
                  source=event.kind, memo=_memo(event), lines=lines, seq=event.seq)
    books.entries[draft.key] = lines
    return draft


def _memo(event: StoreEvent) -> str:
    p = event.payload
    for field_name in ("sale_id", "return_id", "receipt_id", "shipment_id", "adjustment_id",
                       "count_id", "session_id", "movement_id"):
        if p.get(field_name):
            return f"{event.kind} {p[field_name]}"
    return event.kind


def _note(books: Books, event: StoreEvent, kind: str, **detail: Any) -> None:
    books.notes.append(Note(event.store_id, event.seq, kind, detail))


# --- sales, voids, returns ---------------------------------------------------------------

def _sale(event: StoreEvent, books: Books) -> list[Posting]:
    p, roles = event.payload, books.chart.roles
    revenue, discounts = roles["revenue"], roles["discounts"]
    take, store = books.costs.take, event.store_id
    lines: list[Posting] = []
    append = lines.append
    costs: dict[int, dict[str, Any]] = {}
    cost_total = 0
    for number, item in enumerate(p["lines"], start=1):
        rate = tax_rate_key(item["tax_rate"])
        discount = int(item.get("discount", 0))
        gross = int(item["gross"] if "gross" in item else item["amount"] + discount)
        append((revenue, -gross, rate))
        if discount:
            append((discounts, discount, rate))
        sku, qty = item["sku"], _milli(item["quantity"])
        cost = 0
        if qty > 0:
            cost, standard = take(store, sku, qty)
            if standard:
                _cost_unknown(books, event, sku, qty)
        cost_total += cost
        costs[int(item.get("line_no", number))] = {"sku": sku, "qty_milli": qty,
                                                   "cost_minor": cost, "tax_rate": rate}
    append((roles["cogs"], cost_total, ""))
    append((roles["inventory"], -cost_total, ""))
    inclusive = bool(p.get("prices_include_tax"))
    sales_tax = roles["sales_tax"]
    for tax_line in p["taxes"]:
        rate, tax = tax_rate_key(tax_line["rate"]), int(tax_line["tax"])
        append((sales_tax, -tax, rate))
        if inclusive:  # shelf prices held the tax: it is not revenue
            append((revenue, tax, rate))
    change_left = int(p.get("change_due", 0))
    chart = books.chart
    for tender in p["tenders"]:
        amount = int(tender["amount"])
        if tender["type"] == "cash" and change_left:
            amount, change_left = amount - change_left, 0
        append(_tender_line(chart, str(tender["type"]), amount))
    key = (store, str(p["sale_id"]))
    if key in books.sales:  # the same sale id twice: posted (it is an authentic event), noted
        _note(books, event, "duplicate_sale_id", sale_id=key[1],
              first_seq=books.sales[key].seq,
              problem="a second sale with this id; its void or returns refer to the first")
    else:
        books.sales[key] = SaleCost(event.seq, costs)
        books.new_sales.append(key)
    return lines


def _tender_line(chart: Chart, tender_type: str, amount: int) -> Posting:
    account = chart.tender_account(tender_type)
    sub = "" if tender_type in chart.tenders and account != chart.code("card_clearing") \
        else tender_type
    return (account, amount, sub)


def _goods_out(event: StoreEvent, books: Books, sku: str, qty_milli: int) -> int:
    cost, standard = books.costs.take(event.store_id, sku, qty_milli)
    if standard:
        _cost_unknown(books, event, sku, qty_milli)
    return cost


def _cost_unknown(books: Books, event: StoreEvent, sku: str, qty_milli: int) -> None:
    standard = books.costs.standard_costs.get(sku)
    _note(books, event, "cost_unknown", sku=sku, quantity_milli=qty_milli,
          standard_cost_minor=standard,
          problem="no cost known at this store; the product's standard cost was used"
          if standard is not None else "no cost known and no standard cost: costed at 0")


def _goods_in(event: StoreEvent, books: Books, sku: str, qty_milli: int, value: int,
              credit_account: str, credit_sub: str = "") -> list[Posting]:
    """Goods in at ``value``, credited to ``credit_account``; with a variance line pair when
    they re-cost units sold while stock was negative."""
    chart = books.chart
    received = books.costs.put(event.store_id, sku, qty_milli, value)
    lines: list[Posting] = [Line(chart.code("inventory"), value),
                            Line(credit_account, -value, credit_sub)]
    if received.variance_minor:
        lines += [Line(chart.code("cogs"), received.variance_minor),
                  Line(chart.code("inventory"), -received.variance_minor)]
    return lines


def _void(event: StoreEvent, books: Books) -> list[Posting]:
    p = event.payload
    sale = books.sales.get((event.store_id, str(p["sale_id"])))
    original = books.entries.get(event_key(event.store_id, sale.seq)) if sale else None
    if sale is None or original is None:
        _note(books, event, "void_unposted", sale_id=p["sale_id"],
              problem="the voided sale has no posted entry to mirror")
        return []
    chart = books.chart
    lines: list[Posting] = [Line(ln.account, -ln.amount_minor, ln.sub) for ln in original
                            if ln.account not in (chart.code("cogs"), chart.code("inventory"))]
    for cost in sale.lines.values():
        if cost["qty_milli"] > 0:
            lines += _goods_in(event, books, cost["sku"], cost["qty_milli"],
                               cost["cost_minor"], chart.code("cogs"))
    return lines


def _return(event: StoreEvent, books: Books) -> list[Posting]:
    p, chart = event.payload, books.chart
    sale = books.sales.get((event.store_id, str(p.get("original_sale_id")))) \
        if p.get("original_sale_id") else None
    lines: list[Posting] = []
    for item in p["lines"]:
        sold = sale.lines.get(item.get("original_line_no")) if sale else None
        rate = tax_rate_key(item.get("tax_rate") or (sold["tax_rate"] if sold else "0"))
        amount, tax = int(item["amount"]), int(item["tax"])
        lines += [Line(chart.code("returns"), amount - tax, rate),
                  Line(chart.code("sales_tax"), tax, rate)]
        qty = _milli(item["quantity"])
        if qty <= 0:
            continue
        if sold and sold["qty_milli"] > 0:
            # Like the refund, the cost telescopes: returned in parts, a line gives back
            # exactly what it cost, not a cent more or less.
            done = int(sold.get("returned_milli", 0))
            value = share(sold["cost_minor"], done + qty, sold["qty_milli"]) - \
                share(sold["cost_minor"], done, sold["qty_milli"])
            sold["returned_milli"] = done + qty
            if sale is not None:
                books.changed_sales.add((event.store_id, str(p["original_sale_id"])))
        else:
            unit, _ = books.costs.unit_cost(event.store_id, item["sku"])
            value = share(unit, qty, 1000)
        if item.get("disposition", "restock") == "restock":
            lines += _goods_in(event, books, item["sku"], qty, value, chart.code("cogs"))
        else:  # damaged: the goods are gone after all; their cost is shrink, not a sale's
            lines += [Line(chart.code("shrink"), value), Line(chart.code("cogs"), -value)]
    for refund in p.get("refunds", ()):
        account, amount, sub = _tender_line(chart, str(refund["type"]), int(refund["amount"]))
        lines.append((account, -amount, sub))
    return lines


# --- stock -------------------------------------------------------------------------------

def _received(event: StoreEvent, books: Books) -> list[Posting]:
    chart = books.chart
    lines: list[Posting] = []
    for item in event.payload["lines"]:
        qty = _milli(item["quantity"])
        if qty <= 0:
            continue
        unit = item.get("unit_cost")
        if unit is None:
            unit = books.costs.standard_costs.get(item["sku"])
            if unit is None:
                _note(books, event, "cost_unknown", sku=item["sku"], quantity_milli=qty,
                      problem="goods received without a cost and no standard cost: valued at 0")
                unit = 0
        lines += _goods_in(event, books, item["sku"], qty, share(int(unit), qty, 1000),
                           chart.code("supplier_clearing"))
    return lines


def _shipped(event: StoreEvent, books: Books) -> list[Posting]:
    chart, p = books.chart, event.payload
    transfer_id = str(p.get("transfer_id") or p["shipment_id"])
    transit = books.transits.setdefault(transfer_id, Transit())
    books.touched_transits.add(transfer_id)
    transit.shipped = transit.shipped or {}
    lines: list[Posting] = []
    for item in p["lines"]:
        qty = _milli(item["quantity"])
        if qty <= 0:
            continue
        cost = _goods_out(event, books, item["sku"], qty)
        held = transit.shipped.setdefault(item["sku"], [0, 0])
        held[0] += qty
        held[1] += cost
        lines += [Line(chart.code("in_transit"), cost, transfer_id),
                  Line(chart.code("inventory"), -cost)]
    return lines + _settle(books, transit, transfer_id)


def _transfer_received(event: StoreEvent, books: Books) -> list[Posting]:
    chart, p = books.chart, event.payload
    transfer_id = str(p["transfer_id"])
    transit = books.transits.setdefault(transfer_id, Transit())
    books.touched_transits.add(transfer_id)
    transit.received = transit.received or {}
    lines: list[Posting] = []
    for item in p["lines"]:
        qty = _milli(item["quantity"])
        if qty <= 0:
            continue
        shipped = (transit.shipped or {}).get(item["sku"])
        if shipped and shipped[0] > 0:
            value = share(shipped[1], qty, shipped[0])
        else:  # the sending store has not synced yet: value at the best cost known here
            unit, _ = books.costs.unit_cost(event.store_id, item["sku"])
            value = share(unit, qty, 1000)
        held = transit.received.setdefault(item["sku"], [0, 0])
        held[0] += qty
        held[1] += value
        lines += _goods_in(event, books, item["sku"], qty, value, chart.code("in_transit"),
                           transfer_id)
    return lines + _settle(books, transit, transfer_id)


def _settle(books: Books, transit: Transit, transfer_id: str) -> list[Posting]:
    """Once both ends of a transfer are posted, whatever stays in transit (goods lost on the
    road, or valued differently at the two ends) is written off to shrink. A later receipt
    for the same transfer (goods that arrived after all) takes back what it covers, so the
    transfer's in-transit balance is always zero once both ends are in."""
    if transit.shipped is None or transit.received is None:
        return []
    residual = sum(v for _, v in transit.shipped.values()) - \
        sum(v for _, v in transit.received.values()) - transit.written_off
    if not residual:
        return []
    transit.written_off += residual
    chart = books.chart
    return [Line(chart.code("shrink"), residual), Line(chart.code("in_transit"), -residual,
                                                        transfer_id)]


def _stock_delta(role: str) -> Callable[[StoreEvent, Books], list[Posting]]:
    def rule(event: StoreEvent, books: Books) -> list[Posting]:
        chart, p = books.chart, event.payload
        deltas = [(p["sku"], p["delta"])] if "sku" in p else \
            [(line["sku"], line["delta"]) for line in p["lines"]]
        lines: list[Posting] = []
        for sku, delta in deltas:
            qty = _milli(delta)
            if qty < 0:
                cost = _goods_out(event, books, sku, -qty)
                lines += [Line(chart.code(role), cost), Line(chart.code("inventory"), -cost)]
            elif qty > 0:
                unit, _ = books.costs.unit_cost(event.store_id, sku)
                lines += _goods_in(event, books, sku, qty, share(unit, qty, 1000),
                                   chart.code(role))
        return lines
    return rule


# --- cash --------------------------------------------------------------------------------

def _session_closed(event: StoreEvent, books: Books) -> list[Posting]:
    difference = int(event.payload.get("over_short", {}).get("cash", 0))
    chart = books.chart
    return [Line(chart.code("cash"), difference), Line(chart.code("cash_over_short"),
                                                       -difference)]


def _paid(direction: int) -> Callable[[StoreEvent, Books], list[Posting]]:
    def rule(event: StoreEvent, books: Books) -> list[Posting]:
        chart, amount = books.chart, int(event.payload["amount"])
        other = chart.code("paid_in" if direction > 0 else "paid_out")
        return [Line(chart.code("cash"), direction * amount), Line(other, -direction * amount)]
    return rule


RULES: dict[str, Callable[[StoreEvent, Books], list[Posting]]] = {
    "sale.completed": _sale,
    "sale.voided": _void,
    "return.completed": _return,
    "stock.received": _received,
    "transfer.shipped": _shipped,
    "transfer.received": _transfer_received,
    "stock.adjusted": _stock_delta("shrink"),
    "stock.counted": _stock_delta("count_variance"),
    "cash.session_closed": _session_closed,
    "cash.paid_in": _paid(+1),
    "cash.paid_out": _paid(-1),
}
"""Kinds not listed move no money or goods: cash.session_opened (the float moves from the
safe to the till, both the store's cash), cash.no_sale, time.punched (payroll posts wages),
business_day.closed (closes the store's day instead)."""
