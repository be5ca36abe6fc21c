"""The demo's shop floor: a catalog, and shoppers who fill baskets and pay in various ways."""

from __future__ import annotations

import random
import uuid
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

# sku, name, price, tax rate %, barcode (EAN-13 with valid check digits)
CATALOG: tuple[tuple[str, str, str, str, str], ...] = (
    ("1001", "Whole milk 1 l", "1.29", "7", "4006381333931"),
    ("1002", "Rye bread", "2.49", "7", "4012345000016"),
    ("1003", "Free-range eggs x10", "3.79", "7", "4012345000023"),
    ("1004", "Cheddar 200 g", "2.99", "7", "4012345000030"),
    ("1005", "Bananas (kg)", "1.69", "7", "4012345000047"),
    ("1006", "Ground coffee 500 g", "6.49", "7", "4012345000054"),
    ("2001", "Dish soap", "1.99", "19", "4012345000061"),
    ("2002", "Paper towels x4", "3.49", "19", "4012345000078"),
    ("2003", "AA batteries x8", "7.99", "19", "4012345000085"),
    ("3001", "Red wine 0.75 l", "8.99", "19", "4012345000092"),
    ("3002", "Sparkling water 1.5 l", "0.79", "19", "4012345000108"),
    ("3003", "Dark chocolate", "1.49", "7", "4012345000115"),
)
WEIGHED = {"1005"}
CASHIERS = ("E100", "E101", "E102", "E103")
MANAGER, MANAGER_PIN = "M100", "4321"


def write_employees_csv(path: Path) -> None:
    rows = ["employee_id,name,role,pin"]
    rows += [f"{e},Cashier {e},cashier,{1000 + i}" for i, e in enumerate(CASHIERS)]
    rows.append(f"{MANAGER},Store manager,manager,{MANAGER_PIN}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_catalog_csv(path: Path) -> None:
    rows = ["sku,name,price,tax_rate,barcodes"]
    rows += [",".join(row) for row in CATALOG]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def basket(rng: random.Random) -> list[dict[str, Any]]:
    """1-5 lines, by SKU or by barcode as a scanner would send; weighed goods in kg."""
    lines = []
    for sku, _name, _price, _rate, barcode in rng.sample(CATALOG, rng.randint(1, 5)):
        if sku in WEIGHED:
            quantity = str(Decimal(rng.randint(200, 2500)) / 1000)
        else:
            quantity = str(rng.choice((1, 1, 1, 2, 3)))
        key = {"barcode": barcode} if rng.random() < 0.6 else {"sku": sku}
        lines.append({**key, "quantity": quantity})
    return lines


def sale_request(rng: random.Random, lines: list[dict[str, Any]], total: str) -> dict[str, Any]:
    """A sale of ``lines`` (quoted at ``total``) paid in cash with change, by card for the
    exact total, or split card + cash."""
    bound = Decimal(total)
    roll = rng.random()
    if roll < 0.45:
        cash = (bound / 5).to_integral_value(rounding=ROUND_CEILING) * 5
        tenders = [{"type": "cash", "amount": f"{cash:.2f}"}]
    elif roll < 0.9 or bound < 2:
        tenders = [{"type": "card", "amount": total,
                    "reference": f"****{rng.randint(0, 9999):04d}",
                    "approval_code": f"A{rng.randint(0, 99999):05d}"}]
    else:
        cash = bound.to_integral_value(rounding=ROUND_CEILING)
        tenders = [{"type": "card", "amount": "1.00", "reference": "****4242",
                    "approval_code": "A00042"},
                   {"type": "cash", "amount": f"{cash:.2f}"}]
    return {"sale_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "cashier": rng.choice(CASHIERS), "lines": lines, "tenders": tenders}
