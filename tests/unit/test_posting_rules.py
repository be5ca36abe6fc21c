"""Posting rules, case by case: a line returned in parts gives back exactly its cost, tax
rates written two ways are one rate, a transfer received in two parts clears its transit,
and an event whose currency is not a currency is refused (so its store's cursor stops)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from server.accounting.chart import load_chart, parse_chart
from server.accounting.costing import CostBook, Position
from server.accounting.rules import Books, post_event
from sync import StoreEvent

CHART = load_chart()


def _event(seq: int, kind: str, payload: dict[str, Any], store: str = "S001") -> StoreEvent:
    return StoreEvent(store_id=store, seq=seq, event_id=f"e{seq}", kind=kind,
                      recorded_at="2026-11-24T10:00:00Z", business_date="2026-11-24",
                      payload=payload, hash=hashlib.sha256(str(seq).encode()).hexdigest())


def _books(**positions: Position) -> Books:
    return Books(CHART, "USD", CostBook({("S001", sku): p for sku, p in positions.items()},
                                        {}))


def _sale(sale_id: str, lines: list[dict[str, Any]], taxes: list[dict[str, Any]],
          total: int, inclusive: bool = False) -> dict[str, Any]:
    return {"sale_id": sale_id, "currency": "USD", "prices_include_tax": inclusive,
            "lines": lines, "taxes": taxes, "subtotal": sum(ln["gross"] for ln in lines),
            "discount": 0, "tax": sum(t["tax"] for t in taxes), "total": total,
            "tenders": [{"type": "card", "amount": total}], "change_due": 0}


def test_a_line_returned_in_parts_gives_back_exactly_its_cost() -> None:
    books = _books(A=Position(3000, 100, None))  # 3 units that cost 1.00 together
    post_event(_event(1, "sale.completed", _sale("s1", [
        {"line_no": 1, "sku": "A", "quantity": "3", "gross": 300, "discount": 0,
         "amount": 300, "tax_rate": "0"}], [{"rate": "0", "taxable": 300, "tax": 0}], 300)),
        books)
    restocked = []
    for seq in (2, 3, 4):
        draft = post_event(_event(seq, "return.completed", {
            "return_id": f"r{seq}", "original_sale_id": "s1", "currency": "USD",
            "lines": [{"original_line_no": 1, "sku": "A", "quantity": "1", "amount": 100,
                       "tax": 0, "tax_rate": "0", "disposition": "restock"}],
            "tax": 0, "total": 100, "refunds": [{"type": "card", "amount": 100}]}), books)
        assert draft is not None
        restocked.append(next(ln.amount_minor for ln in draft.lines if ln.account == "1200"))
    assert sum(restocked) == 100 and sorted(restocked) == [33, 33, 34]
    assert books.costs.positions[("S001", "A")] == Position(3000, 100, 33)


def test_tax_rates_written_two_ways_are_one_rate() -> None:
    books = _books(A=Position(10000, 1000, None), B=Position(10000, 1000, None))
    draft = post_event(_event(1, "sale.completed", _sale("s1", [
        {"line_no": 1, "sku": "A", "quantity": "1", "gross": 1070, "discount": 0,
         "amount": 1070, "tax_rate": "7"},
        {"line_no": 2, "sku": "B", "quantity": "1", "gross": 1070, "discount": 0,
         "amount": 1070, "tax_rate": "7.0"}], [{"rate": "7", "taxable": 2140, "tax": 140}],
        2140, inclusive=True)), books)
    assert draft is not None
    by = {(ln.account, ln.sub): ln.amount_minor for ln in draft.lines}
    assert by[("4000", "7")] == -2000 and by[("2100", "7")] == -140
    assert ("4000", "7.0") not in by


def test_a_transfer_received_in_two_parts_clears_its_transit() -> None:
    books = _books(A=Position(10000, 1000, None))
    books.costs.positions[("S002", "A")] = Position()
    lines = []
    ship = post_event(_event(1, "transfer.shipped", {
        "shipment_id": "o1", "transfer_id": "T1", "lines": [{"sku": "A", "quantity": "10"}]}),
        books)
    assert ship is not None
    lines += ship.lines
    for seq, qty in ((1, "6"), (2, "4")):
        draft = post_event(_event(seq, "transfer.received", {
            "receipt_id": f"i{seq}", "transfer_id": "T1",
            "lines": [{"sku": "A", "quantity": qty}]}, store="S002"), books)
        assert draft is not None
        lines += draft.lines
    assert sum(ln.amount_minor for ln in lines if ln.account == "1210") == 0
    assert sum(ln.amount_minor for ln in lines if ln.account == "5100") == 0  # nothing lost


def test_an_event_whose_currency_is_not_a_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        post_event(_event(1, "cash.paid_in", {"movement_id": "m", "amount": 100,
                                              "currency": "EURO", "reason": "x"}), _books())


def test_a_chart_needs_every_role_once() -> None:
    data = {"account": [{"code": "1000", "name": "Cash", "type": "asset", "role": "cash"},
                        {"code": "1001", "name": "Cash 2", "type": "asset", "role": "cash"}]}
    with pytest.raises(ValueError, match="role cash is already held by 1000"):
        parse_chart(data)
