"""One store's day, as the tills ring it: stock received, sales in cash and card, a void, a
return with one line restocked and one damaged, an adjustment, a count, paid in, paid out, a
no-sale, a shift's punches and the till closed one unit short. Shared by the head-office
tests that check what head office makes of it (projections, reports, the books)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.agent_helpers import MANAGER, call, new_id, open_till, sale


async def store_day(agent: Any) -> dict[str, Any]:
    """What a store does in a day; returns the agent's answers that the checks need."""
    session_id = await open_till(agent, float_="150.00")
    status, _ = await call(agent, "POST", "/api/v1/stock/receipts", {
        "receipt_id": new_id(), "employee": "E100",
        "lines": [{"sku": "1001", "quantity": "24"}, {"sku": "1002", "quantity": "10"},
                  {"sku": "3001", "quantity": "6"}]})
    assert status == 201
    sold = []
    for body in (
            sale({"sku": "1001", "quantity": "3"}, {"sku": "3001"},
                 tenders=[{"type": "cash", "amount": "20.00"}]),
            sale({"sku": "1002", "quantity": "2"},
                 tenders=[{"type": "card", "amount": "5.33", "reference": "****4242"}]),
            sale({"sku": "3001", "quantity": "2"}, {"sku": "2001"},
                 tenders=[{"type": "card", "amount": "10.00", "reference": "****1111"},
                          {"type": "cash", "amount": "20.00"}]),
            sale({"sku": "1001"}, tenders=[{"type": "cash", "amount": "5.00"}])):
        status, answer = await call(agent, "POST", "/api/v1/sales", body)
        assert status == 201, answer
        sold.append(answer)
    status, voided = await call(agent, "POST", f"/api/v1/sales/{sold[3]['sale_id']}/void",
                                {"employee": "E100", "reason": "rang twice", "manager": MANAGER})
    assert status == 201, voided
    for line_no, disposition in ((1, "restock"), (2, "damaged")):
        status, answer = await call(agent, "POST", "/api/v1/returns", {
            "return_id": new_id(), "employee": "E100", "reason": "changed mind",
            "original_sale_id": sold[0]["sale_id"],
            "lines": [{"line_no": line_no, "quantity": "1", "disposition": disposition}]})
        assert status == 201, answer
    status, _ = await call(agent, "POST", "/api/v1/stock/adjustments", {
        "adjustment_id": new_id(), "employee": "E100", "sku": "1002", "delta": "-1",
        "reason": "damaged"})
    assert status == 201
    status, _ = await call(agent, "POST", "/api/v1/stock/counts", {
        "count_id": new_id(), "employee": "E100", "lines": [{"sku": "1001", "counted": "19"}]})
    assert status == 201
    base = f"/api/v1/cash-sessions/{session_id}"
    for movement, body in (("paid-in", {"amount": "25.00", "reason": "change"}),
                           ("paid-out", {"amount": "5.00", "reason": "stamps",
                                         "manager": MANAGER}),
                           ("no-sale", {"reason": "check a note"})):
        status, answer = await call(agent, "POST", f"{base}/{movement}", {
            "movement_id": new_id(), "employee": "E100", **body})
        assert status == 201, answer
    for action in ("in", "break_start", "break_end", "out"):
        status, answer = await call(agent, "POST", "/api/v1/punches", {
            "punch_id": new_id(), "employee": "E101", "action": action})
        assert status == 201, answer
    status, x_report = await call(agent, "GET", f"{base}/x-report")
    assert status == 200
    counted = Decimal(x_report["expected"]["cash"]) - Decimal("1.00")
    status, z_report = await call(agent, "POST", f"{base}/close", {
        "employee": "E100", "counted": {"cash": str(counted),
                                        "card": x_report["expected"]["card"]}})
    assert status == 201, z_report
    return {"sold": sold, "z": z_report, "session_id": session_id}
