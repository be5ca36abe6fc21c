"""The agent's catalog cache: lookups for the sale path, and the CSV import for a store that
has not synced yet. Catalog data belongs to head office; the agent only caches it.

CSV columns: ``sku,name,price,tax_rate,barcodes`` — price a decimal string in the store's
currency (tax-exclusive), tax_rate a percentage, barcodes separated by spaces or ``|``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from store_agent.barcodes import DEFAULT_LABELS, InvalidBarcode, LabelRules, interpret
from store_agent.basket import Product
from store_agent.errors import CatalogImportError, InvalidSale, UnknownProduct
from store_agent.ledger import write_transaction
from sync.errors import InvalidAmount
from sync.money import format_minor, parse_amount
from sync.quantities import format_milli

CSV_COLUMNS = ("sku", "name", "price", "tax_rate", "barcodes")


_PRODUCT_SQL = (
    "SELECT p.sku, p.name, COALESCE((SELECT price_minor FROM prices WHERE prices.sku = p.sku AND "
    "effective_at <= ? ORDER BY effective_at DESC LIMIT 1), p.price_minor), "
    "COALESCE((SELECT rate FROM tax_rates WHERE tax_rates.code = p.tax_code), p.tax_rate) "
    "FROM products p WHERE p.sku = ?"
)


@dataclass(frozen=True, slots=True)
class Scanned:
    """A product found from a scan, with what a scale label carried."""

    product: Product
    embedded_price_minor: int | None = None
    embedded_weight_kg: Decimal | None = None


def find_by_sku(db: Database, sku: str, field: str, now: str = "9999") -> Product:
    """The product with its price in force at ``now`` (UTC ISO text) and its tax rate."""
    row = db.execute(_PRODUCT_SQL, [now, sku]).fetchone()
    if row is None:
        raise UnknownProduct(field, sku)
    return Product(sku=row[0], name=row[1], price_minor=row[2], tax_rate=Decimal(row[3]))


def find_by_barcode(db: Database, code: str, field: str, now: str = "9999",
                    labels: LabelRules = DEFAULT_LABELS) -> Scanned:
    """Look up a scanned code: a GTIN, an internal code, or a variable-measure scale label
    read by the store's label rules."""
    try:
        scanned = interpret(code, labels)
    except InvalidBarcode as exc:
        raise InvalidSale(field, str(exc)) from None
    row = db.execute("SELECT sku FROM barcodes WHERE barcode = ?", [scanned.lookup]).fetchone()
    if row is None:
        raise UnknownProduct(field, code)
    return Scanned(product=find_by_sku(db, row[0], field, now),
                   embedded_price_minor=scanned.embedded_price_minor,
                   embedded_weight_kg=scanned.embedded_weight_kg)


def product_view(db: Database, product: Product, exponent: int) -> dict[str, Any]:
    """What a terminal shows for a product: price now, tax rate, barcodes, stock on hand."""
    barcodes = [r[0] for r in db.execute("SELECT barcode FROM barcodes WHERE sku = ? "
                                         "ORDER BY barcode", [product.sku]).fetchall()]
    stock = db.execute("SELECT on_hand_milli FROM stock WHERE sku = ?", [product.sku]).fetchone()
    return {"sku": product.sku, "name": product.name,
            "price": format_minor(product.price_minor, exponent),
            "tax_rate": str(product.tax_rate), "barcodes": barcodes,
            "on_hand": format_milli(stock[0] if stock else 0)}


def search(db: Database, query: str, limit: int) -> list[str]:
    """SKUs whose name contains every word of ``query`` (case-insensitive), by name."""
    words = [w for w in query.lower().split() if w][:5]
    where = " AND ".join("lower(name) LIKE ? ESCAPE '\\'" for _ in words) or "1"
    params = [f"%{_escape_like(w)}%" for w in words]
    rows = db.execute(f"SELECT sku FROM products WHERE {where} ORDER BY name LIMIT ?",
                      [*params, limit]).fetchall()
    return [r[0] for r in rows]


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def import_catalog_csv(db: Database, path: Path, exponent: int) -> int:
    """Import (upsert) products and barcodes from a CSV file, all rows or none."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogImportError([f"{path}: cannot read ({exc})"]) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise CatalogImportError([f"{path}: missing column(s) {', '.join(missing)}; expected "
                                  f"header {','.join(CSV_COLUMNS)}"])
    products: list[dict[str, object]] = []
    barcodes: list[dict[str, object]] = []
    errors: list[str] = []
    seen_barcodes: dict[str, str] = {}
    for line_no, row in enumerate(reader, start=2):
        where = f"{path.name}:{line_no}"
        sku = (row.get("sku") or "").strip()
        name = (row.get("name") or "").strip()
        if not sku or not name:
            errors.append(f"{where}: sku and name are required")
            continue
        try:
            price = parse_amount((row.get("price") or "").strip(), exponent, field="price")
        except InvalidAmount as exc:
            errors.append(f"{where}: {exc}")
            continue
        try:
            rate = Decimal((row.get("tax_rate") or "").strip())
        except InvalidOperation:
            errors.append(f"{where}: tax_rate {row.get('tax_rate')!r} is not a percentage")
            continue
        if price < 0 or not (Decimal(0) <= rate < Decimal(100)):
            errors.append(f"{where}: price must be >= 0 and tax_rate between 0 and 100")
            continue
        products.append({"sku": sku, "name": name, "price_minor": price,
                         "tax_rate": str(rate)})
        for code in (row.get("barcodes") or "").replace("|", " ").split():
            if seen_barcodes.setdefault(code, sku) != sku:
                errors.append(f"{where}: barcode {code} is already used by {seen_barcodes[code]}")
            barcodes.append({"barcode": code, "sku": sku})
    if errors:
        raise CatalogImportError(errors)
    with write_transaction(db):
        db.table("products").upsert_all(products, pk="sku")
        db.table("barcodes").upsert_all(barcodes, pk="barcode")
    return len(products)
