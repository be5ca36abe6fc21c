"""Property tests of the posting rules over random store histories (hypothesis): sales priced
by the agent's own basket code (tax included or added, discounts), voids, partial returns
with and without a receipt (restocked or damaged), stock received with and without a cost,
adjustments and counts, stock sold below zero, transfers whose two ends arrive in either
order, paid in and out, tills closed over or short. Whatever the history:

- every entry balances, and the books as a whole balance;
- posting the same history again from nothing gives identical entries;
- what the books show per store, business day, tax rate and tender equals what the events
  say (``books verify``'s independent arithmetic);
- each store's GL inventory equals its moving-average valuation, to the cent;
- an event dated in a closed month posts into the first open month after it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.accounting.chart import load_chart
from server.accounting.costing import CostBook, share
from server.accounting.posting import posting_date
from server.accounting.rules import Books, Draft, post_event
from server.accounting.verify import expected_figures, posted_figures
from store_agent.basket import BasketLine, Discount, Product, price_basket
from store_agent.sales import basket_payload
from sync import StoreEvent

CHART = load_chart()
PRODUCTS = {"A": Product("A", "Apples", 129, Decimal("7")),
            "B": Product("B", "Bread", 249, Decimal("7")),
            "W": Product("W", "Wine", 899, Decimal("19")),
            "S": Product("S", "Soap", 199, Decimal("19"))}
STANDARD_COSTS = {"A": 80, "B": 110, "W": 425, "S": None}
STORES = ("S001", "S002")
START = date(2026, 3, 30)


@dataclass
class History:
    """The events of a random history, built the way the agents would record them."""

    events: list[StoreEvent] = field(default_factory=list)
    seq: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sales: dict[str, list[tuple[str, dict[str, Any], dict[int, int]]]] = field(
        default_factory=lambda: defaultdict(list))  # store -> (sale_id, payload, returned)
    shipped: list[tuple[str, list[dict[str, str]]]] = field(default_factory=list)
    day: int = 0

    def add(self, store: str, kind: str, payload: dict[str, Any]) -> None:
        self.seq[store] += 1
        seq = self.seq[store]
        business_date = (START + timedelta(days=self.day)).isoformat()
        self.events.append(StoreEvent(
            store_id=store, seq=seq, event_id=f"{store}-{seq}", kind=kind,
            recorded_at=f"{business_date}T12:00:00Z", business_date=business_date,
            payload=payload, hash=hashlib.sha256(f"{store}{seq}".encode()).hexdigest()))


def _sale(data: st.DataObject, history: History, store: str, inclusive: bool) -> None:
    skus = data.draw(st.lists(st.sampled_from(sorted(PRODUCTS)), min_size=1, max_size=4))
    lines = tuple(BasketLine(
        product=PRODUCTS[sku],
        quantity=data.draw(st.sampled_from([Decimal(1), Decimal(2), Decimal(3),
                                            Decimal("0.355"), Decimal("1.5")])),
        discount=data.draw(st.one_of(st.none(), st.builds(
            Discount, st.just("percent"), st.sampled_from([Decimal(5), Decimal(10)]),
            st.just("promo"))))) for sku in skus)
    totals = price_basket(lines, prices_include_tax=inclusive)
    total = totals.total_minor
    how = data.draw(st.sampled_from(["cash", "card", "split", "gift"]))
    if how == "cash":
        tenders = [{"type": "cash", "amount": total + data.draw(st.integers(0, 900))}]
    elif how == "card":
        tenders = [{"type": "card", "amount": total}]
    elif how == "gift":
        tenders = [{"type": "gift_card", "amount": total}]
    else:
        part = data.draw(st.integers(0, total))
        tenders = [{"type": "card", "amount": part},
                   {"type": "cash", "amount": total - part + data.draw(st.integers(0, 500))}]
    change = sum(t["amount"] for t in tenders) - total
    sale_id = f"{store}-sale-{history.seq[store] + 1}"
    payload = {"sale_id": sale_id, "terminal_id": "T1", "receipt_no": history.seq[store] + 1,
               "cashier": "E100", "currency": "USD", "prices_include_tax": inclusive,
               **basket_payload(lines, totals), "tenders": tenders, "change_due": change}
    history.add(store, "sale.completed", payload)
    history.sales[store].append((sale_id, payload, {}))


def _void(data: st.DataObject, history: History, store: str) -> None:
    candidates = [s for s in history.sales[store] if not s[2]]
    if not candidates:
        return
    sale_id, payload, returned = data.draw(st.sampled_from(candidates))
    history.sales[store].remove((sale_id, payload, returned))
    history.add(store, "sale.voided", {
        "sale_id": sale_id, "currency": "USD", "total": payload["total"],
        "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in payload["lines"]],
        "tenders": payload["tenders"], "change_due": payload["change_due"]})


def _return(data: st.DataObject, history: History, store: str) -> None:
    lines, original = [], None
    if history.sales[store] and data.draw(st.booleans()):
        sale_id, payload, returned = data.draw(st.sampled_from(history.sales[store]))
        inclusive = payload["prices_include_tax"]
        sold = {ln["line_no"]: ln for ln in payload["lines"]}
        taxes = {t["rate"]: t for t in payload["taxes"]}
        for number, line in sold.items():
            qty = int(Decimal(line["quantity"]) * 1000)
            left = qty - returned.get(number, 0)
            if left <= 0 or not data.draw(st.booleans()):
                continue
            take = data.draw(st.integers(1, left))
            # the line's share of its rate's tax, then the telescoping partial refund
            rate = taxes[line["tax_rate"]]
            line_tax = share(rate["tax"], line["amount"], rate["taxable"]) \
                if rate["taxable"] else 0
            gross = line["amount"] + (0 if inclusive else line_tax)
            done = returned.get(number, 0)
            refund = share(gross, done + take, qty) - share(gross, done, qty)
            tax = share(line_tax, done + take, qty) - share(line_tax, done, qty)
            returned[number] = done + take
            lines.append({"original_line_no": number, "sku": line["sku"],
                          "quantity": str(Decimal(take) / 1000), "amount": refund, "tax": tax,
                          "tax_rate": line["tax_rate"],
                          "disposition": data.draw(st.sampled_from(["restock", "damaged"]))})
        original = sale_id
    else:
        sku = data.draw(st.sampled_from(sorted(PRODUCTS)))
        totals = price_basket((BasketLine(PRODUCTS[sku], Decimal(1)),))
        lines.append({"original_line_no": None, "sku": sku, "quantity": "1",
                      "amount": totals.total_minor, "tax": totals.tax_minor,
                      "tax_rate": str(PRODUCTS[sku].tax_rate), "disposition": "restock"})
    if not lines:
        return
    total = sum(ln["amount"] for ln in lines)
    card = data.draw(st.integers(0, total))
    history.add(store, "return.completed", {
        "return_id": f"{store}-ret-{history.seq[store] + 1}", "original_sale_id": original,
        "currency": "USD", "lines": lines, "tax": sum(ln["tax"] for ln in lines),
        "total": total, "refunds": [r for r in ({"type": "card", "amount": card},
                                                {"type": "cash", "amount": total - card})
                                    if r["amount"]]})


def _stock(data: st.DataObject, history: History, store: str) -> None:
    kind = data.draw(st.sampled_from(["received", "adjusted", "counted"]))
    sku = data.draw(st.sampled_from(sorted(PRODUCTS)))
    quantity = data.draw(st.sampled_from(["1", "5", "12", "0.5"]))
    if kind == "received":
        line: dict[str, Any] = {"sku": sku, "quantity": quantity}
        if data.draw(st.booleans()):
            line["unit_cost"] = data.draw(st.integers(0, 1500))
        history.add(store, "stock.received", {"receipt_id": f"r{history.seq[store]}",
                                              "transfer_id": None, "lines": [line]})
    elif kind == "adjusted":
        delta = data.draw(st.sampled_from(["-1", "-2", "3", "-0.25"]))
        history.add(store, "stock.adjusted", {"adjustment_id": f"a{history.seq[store]}",
                                              "sku": sku, "delta": delta, "reason": "damaged"})
    else:
        delta = data.draw(st.sampled_from(["-1", "2", "0"]))
        history.add(store, "stock.counted", {"count_id": f"c{history.seq[store]}", "lines": [
            {"sku": sku, "counted": "7", "on_hand_before": "7", "delta": delta}]})


def _transfer(data: st.DataObject, history: History) -> None:
    if history.shipped and data.draw(st.booleans()):
        transfer_id, lines = history.shipped.pop(0)
        how = data.draw(st.sampled_from(["whole", "short", "in_two_parts"]))
        received = [{"sku": ln["sku"], "quantity": "1" if how != "whole" else ln["quantity"]}
                    for ln in lines]
        history.add("S002", "transfer.received", {"receipt_id": f"in-{transfer_id}",
                                                  "transfer_id": transfer_id,
                                                  "lines": received})
        if how == "in_two_parts":  # the rest arrives later, in a receipt of its own
            history.shipped.append((transfer_id, [{"sku": ln["sku"], "quantity": "1"}
                                                  for ln in lines]))
        return
    transfer_id = f"TR{len(history.events)}"
    lines = [{"sku": data.draw(st.sampled_from(sorted(PRODUCTS))), "quantity": "2"}]
    if data.draw(st.booleans()):  # the receiving store syncs first
        history.add("S002", "transfer.received", {"receipt_id": f"in-{transfer_id}",
                                                  "transfer_id": transfer_id, "lines": lines})
        history.add("S001", "transfer.shipped", {"shipment_id": f"out-{transfer_id}",
                                                 "transfer_id": transfer_id, "lines": lines})
    else:
        history.add("S001", "transfer.shipped", {"shipment_id": f"out-{transfer_id}",
                                                 "transfer_id": transfer_id, "lines": lines})
        history.shipped.append((transfer_id, lines))


def _cash(data: st.DataObject, history: History, store: str) -> None:
    kind = data.draw(st.sampled_from(["cash.paid_in", "cash.paid_out", "cash.session_closed"]))
    if kind == "cash.session_closed":
        history.add(store, kind, {"session_id": f"s{history.seq[store]}",
                                  "over_short": {"cash": data.draw(st.integers(-500, 500)),
                                                 "card": 0}})
    else:
        history.add(store, kind, {"movement_id": f"m{history.seq[store]}",
                                  "amount": data.draw(st.integers(1, 5000)), "reason": "x"})


@st.composite
def histories(draw: st.DrawFn) -> list[StoreEvent]:
    data = draw(st.data())
    history = History()
    for _ in range(draw(st.integers(1, 40))):
        store = draw(st.sampled_from(STORES))
        action = draw(st.sampled_from(["sale", "sale", "sale", "void", "return", "stock",
                                       "stock", "transfer", "cash", "next_day"]))
        if action == "sale":
            _sale(data, history, store, draw(st.booleans()))
        elif action == "void":
            _void(data, history, store)
        elif action == "return":
            _return(data, history, store)
        elif action == "stock":
            _stock(data, history, store)
        elif action == "transfer":
            _transfer(data, history)
        elif action == "cash":
            _cash(data, history, store)
        else:
            history.day += draw(st.integers(1, 3))
    return history.events


def _post(events: list[StoreEvent]) -> tuple[list[Draft], Books]:
    books = Books(chart=CHART, currency="USD",
                  costs=CostBook(standard_costs=STANDARD_COSTS))
    drafts = [d for d in (post_event(e, books) for e in events) if d is not None]
    return drafts, books


@dataclass(frozen=True)
class _Row:
    store_id: str
    business_date: date
    account_code: str
    sub: str
    amount: int


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_the_books_always_balance_and_agree_with_the_events(events: list[StoreEvent]) -> None:
    drafts, books = _post(events)
    for draft in drafts:
        assert sum(line.amount_minor for line in draft.lines) == 0, draft
    again, _ = _post(events)
    assert again == drafts  # posting from nothing gives identical entries

    rows = [_Row(d.store_id or "", d.business_date, ln.account, ln.sub, ln.amount_minor)
            for d in drafts for ln in d.lines]
    assert posted_figures(rows, CHART) == expected_figures(events)

    inventory: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.account_code == CHART.code("inventory"):
            inventory[row.store_id] += row.amount
    valuation: dict[str, int] = defaultdict(int)
    for (store, _sku), position in books.costs.positions.items():
        valuation[store] += position.value_minor
        if position.qty_milli == 0:
            assert position.value_minor == 0  # nothing on hand is worth nothing
    assert {s: v for s, v in inventory.items() if v} == {s: v for s, v in valuation.items()
                                                         if v}
    in_transit = sum(r.amount for r in rows if r.account_code == CHART.code("in_transit"))
    open_value = 0
    for transit in books.transits.values():
        if transit.received is None and transit.shipped:  # on the road
            open_value += sum(value for _, value in transit.shipped.values())
        elif transit.shipped is None and transit.received:  # arrived, sender not synced
            open_value -= sum(value for _, value in transit.received.values())
    assert in_transit == open_value  # what is on the road, and only that


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
       st.sets(st.sampled_from([f"{y}-{m:02d}" for y in (2025, 2026, 2027)
                                for m in range(1, 13)])))
def test_a_late_event_posts_into_the_first_open_month(business: date,
                                                      closed: set[str]) -> None:
    posted = posting_date(business, closed)
    assert posted >= business and posted.strftime("%Y-%m") not in closed
    if business.strftime("%Y-%m") not in closed:
        assert posted == business
    else:
        assert posted.day == 1
        month = business.replace(day=1)
        while month < posted:  # every month skipped is closed
            assert month.strftime("%Y-%m") in closed
            month = (month + timedelta(days=32)).replace(day=1)


@given(st.integers(-10**12, 10**12), st.integers(-10**6, 10**6),
       st.integers(-10**6, 10**6).filter(bool))
def test_share_rounds_half_to_even_exactly(value: int, part: int, whole: int) -> None:
    from fractions import Fraction

    assert share(value, part, whole) == round(Fraction(value * part, whole))
