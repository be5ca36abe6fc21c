"""What a recorded sale or return looks like to a terminal: the JSON answer and the receipt
text. Built only from the event payload, so a retry, a reprint and ``agent verify`` all get
exactly what the first answer said. Pure; no I/O.
"""

from __future__ import annotations

from typing import Any

from sync.money import exponent_of, format_minor

RECEIPT_WIDTH = 42


def receipt_number(terminal_id: str, receipt_no: int) -> str:
    return f"{terminal_id}-{receipt_no:06d}"


def sale_answer(payload: dict[str, Any], seq: int, business_date: str) -> dict[str, Any]:
    """The answer to ``POST /api/v1/sales`` for a recorded ``sale.completed`` payload."""
    exp = exponent_of(payload["currency"])

    def money(minor: int) -> str:
        return format_minor(minor, exp)

    return {
        "sale_id": payload["sale_id"], "seq": seq, "business_date": business_date,
        "terminal_id": payload["terminal_id"], "receipt_no": payload["receipt_no"],
        "receipt_number": receipt_number(payload["terminal_id"], payload["receipt_no"]),
        "session_id": payload.get("session_id"), "cashier": payload["cashier"],
        "currency": payload["currency"],
        "prices_include_tax": payload.get("prices_include_tax", False),
        **totals_json(payload, money),
        "tenders": [{"type": t["type"], "amount": money(t["amount"]),
                     "reference": t.get("reference", "")} for t in payload["tenders"]],
        "tendered": money(sum(t["amount"] for t in payload["tenders"])),
        "change_due": money(payload["change_due"]),
        "receipt": {"lines": sale_receipt_lines(payload, business_date),
                    "barcode": receipt_number(payload["terminal_id"], payload["receipt_no"])},
    }


def totals_json(payload: dict[str, Any], money: Any) -> dict[str, Any]:
    """Lines, taxes and totals of a priced basket payload, as decimal strings."""
    return {
        "lines": [_line_json(line, money) for line in payload["lines"]],
        "taxes": [{"rate": t["rate"], "taxable": money(t["taxable"]), "tax": money(t["tax"])}
                  for t in payload["taxes"]],
        "subtotal": money(payload["subtotal"]), "discount": money(payload.get("discount", 0)),
        "tax": money(payload["tax"]), "total": money(payload["total"]),
    }


def _line_json(line: dict[str, Any], money: Any) -> dict[str, Any]:
    out = {"line_no": line.get("line_no"), "sku": line["sku"], "name": line["name"],
           "quantity": line["quantity"], "unit_price": money(line["unit_price"]),
           "amount": money(line["amount"]), "tax_rate": line["tax_rate"]}
    if line.get("discount"):
        out["discount"] = money(line["discount"])
        out["discount_reason"] = line.get("discount_reason", "")
    if line.get("override_reason"):
        out["list_price"] = money(line["list_price"])
        out["override_reason"] = line["override_reason"]
    return out


def sale_receipt_lines(payload: dict[str, Any], business_date: str) -> list[str]:
    """The receipt as fixed-width text lines (the printer driver lays out the same content)."""
    exp = exponent_of(payload["currency"])

    def money(minor: int) -> str:
        return format_minor(minor, exp)

    out = [_centre(f"Store {payload.get('store_name') or ''}".strip()),
           _pair(f"Receipt {receipt_number(payload['terminal_id'], payload['receipt_no'])}",
                 business_date),
           _pair(f"Cashier {payload['cashier']}", payload["currency"]), "-" * RECEIPT_WIDTH]
    for line in payload["lines"]:
        out.append(_pair(line["name"][:RECEIPT_WIDTH - 12], money(line["amount"])))
        if line["quantity"] != "1":
            out.append(f"  {line['quantity']} x {money(line['unit_price'])}")
        if line.get("discount"):
            out.append(_pair(f"  discount {line.get('discount_reason', '')}".rstrip(),
                             "-" + money(line["discount"])))
    out.append("-" * RECEIPT_WIDTH)
    if payload.get("discount"):
        out.append(_pair("Discounts", "-" + money(payload["discount"])))
    out.append(_pair("Subtotal", money(payload["subtotal"])))
    label = "incl. tax" if payload.get("prices_include_tax") else "Tax"
    for tax in payload["taxes"]:
        out.append(_pair(f"{label} {tax['rate']}% on {money(tax['taxable'])}", money(tax["tax"])))
    out.append(_pair("TOTAL", money(payload["total"])))
    for tender in payload["tenders"]:
        ref = f" {tender['reference']}" if tender.get("reference") else ""
        out.append(_pair(f"{tender['type'].replace('_', ' ')}{ref}", money(tender["amount"])))
    if payload["change_due"]:
        out.append(_pair("Change", money(payload["change_due"])))
    return out


def _pair(left: str, right: str) -> str:
    room = RECEIPT_WIDTH - len(right) - 1
    return f"{left[:room]:<{room}} {right}"


def _centre(text: str) -> str:
    return text[:RECEIPT_WIDTH].center(RECEIPT_WIDTH).rstrip()
