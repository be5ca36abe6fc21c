"""The agent's catalog cache: lookups for the sale path, and the CSV import for a store that
has not synced yet. Catalog data belongs to head office; the agent only caches it.

CSV columns: ``sku,name,price,tax_rate,barcodes`` — price a decimal string in the store's
currency (tax-exclusive), tax_rate a percentage, barcodes separated by spaces or ``|``.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlite_utils import Database

from store_agent.basket import Product
from store_agent.errors import CatalogImportError, UnknownProduct
from store_agent.ledger import write_transaction
from sync.errors import InvalidAmount
from sync.money import parse_amount

CSV_COLUMNS = ("sku", "name", "price", "tax_rate", "barcodes")


def find_by_sku(db: Database, sku: str, field: str) -> Product:
    row = db.execute("SELECT sku, name, price_minor, tax_rate FROM products WHERE sku = ?",
                     [sku]).fetchone()
    if row is None:
        raise UnknownProduct(field, sku)
    return Product(sku=row[0], name=row[1], price_minor=row[2], tax_rate=Decimal(row[3]))


def find_by_barcode(db: Database, barcode: str, field: str) -> Product:
    row = db.execute("SELECT sku FROM barcodes WHERE barcode = ?", [barcode]).fetchone()
    if row is None:
        raise UnknownProduct(field, barcode)
    return find_by_sku(db, row[0], field)


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
