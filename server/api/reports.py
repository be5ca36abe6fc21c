"""Head-office API: reports. Each answers JSON rows or, with ``?format=csv``, the same rows as
CSV. Money is a decimal string with a ``*_minor`` integer beside it; dates are business dates.

- ``sales-by-store``: per store and business day from the day summary that ingest keeps in
  the same transaction as the events (late events included), so it stays exact and fast.
- ``sales``: grouped by any of store, day, hour (the store's local hour), cashier, terminal;
  or by product (from the lines) or tender (from the tenders) with store/day/hour beside.
- ``inventory-valuation`` and ``low-stock``: from the running stock levels.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem
from server import keys
from server.api.params import date_range, money_text
from server.api.tabular import report_response
from server.roles import Permission, requires
from server.storage.tables import (
    catalog_products,
    sale_lines,
    sale_tenders,
    sales,
    sales_daily,
    stock_levels,
)
from sync.quantities import format_milli

routes = web.RouteTableDef()

SALE_DIMENSIONS = {"store": sales.c.store_id, "day": sales.c.business_date,
                   "hour": sales.c.local_hour, "cashier": sales.c.cashier,
                   "terminal": sales.c.terminal_id}
DIMENSION_COLUMN = {"store": "store_id", "day": "business_date", "hour": "hour",
                    "cashier": "cashier", "terminal": "terminal_id"}


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers."""
    if denominator == 0:
        return 0
    quotient = (abs(numerator) * 2 + denominator) // (denominator * 2)
    return quotient if numerator >= 0 else -quotient


def _percent(part: int, whole: int) -> str | None:
    """part / whole as a percentage with two places (half up), or None when whole is 0."""
    if whole == 0:
        return None
    hundredths = _round_div(part * 10000, whole)
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{abs(hundredths) // 100}.{abs(hundredths) % 100:02d}"


def _dates(request: web.Request, column: Any, query: Any) -> Any:
    start, end = date_range(request)
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column <= end)
    return query


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@routes.get("/api/v1/reports/sales-by-store")
@requires(Permission.SALES_READ)
async def sales_by_store(request: web.Request) -> web.Response:
    """Sales, voids and returns per store and business day, with the average basket and the
    returns rate (returned value as a percentage of sold value)."""
    query = _dates(request, sales_daily.c.business_date, sa.select(sales_daily).order_by(
        sales_daily.c.store_id, sales_daily.c.business_date))
    if store_id := request.query.get("store_id"):
        query = query.where(sales_daily.c.store_id == store_id)
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(query)).all()
    items = []
    for r in rows:
        net = r.total_minor - r.voids_minor - r.returns_minor
        items.append({
            "store_id": r.store_id, "business_date": r.business_date.isoformat(),
            "count": r.sales_count, "subtotal": money_text(request, r.subtotal_minor),
            "tax": money_text(request, r.tax_minor), "total": money_text(request, r.total_minor),
            "total_minor": r.total_minor, "tax_minor": r.tax_minor,
            "voids_count": r.voids_count, "voids": money_text(request, r.voids_minor),
            "returns_count": r.returns_count, "returns": money_text(request, r.returns_minor),
            "net_total": money_text(request, net), "net_total_minor": net,
            "average_basket": money_text(request, _round_div(r.total_minor, r.sales_count)),
            "returns_rate_percent": _percent(r.returns_minor, r.total_minor)})
    columns = ["store_id", "business_date", "count", "subtotal", "tax", "total", "voids_count",
               "voids", "returns_count", "returns", "net_total", "average_basket",
               "returns_rate_percent", "total_minor", "tax_minor", "net_total_minor"]
    return report_response(request, "sales-by-store", columns, items)


def _group_by(request: web.Request) -> list[str]:
    text = request.query.get("group_by", "store,day")
    names = [n.strip() for n in text.split(",") if n.strip()]
    allowed = [*SALE_DIMENSIONS, "product", "tender"]
    unknown = [n for n in names if n not in allowed]
    if not names or unknown or len(set(names)) != len(names):
        raise Problem(400, f"group_by: a comma-separated list of {', '.join(allowed)} "
                           f"(each once), got {text!r}", field="group_by")
    if "product" in names and "tender" in names:
        raise Problem(400, "group_by: product and tender cannot be combined (lines and tenders "
                           "are different splits of a sale)", field="group_by")
    return names


@routes.get("/api/v1/reports/sales")
@requires(Permission.SALES_READ)
async def sales_report(request: web.Request) -> web.Response:
    """Sales grouped by ``group_by`` (default ``store,day``) within ``from``/``to`` and an
    optional ``store_id``."""
    names = _group_by(request)
    dims = [n for n in names if n in SALE_DIMENSIONS]
    keys_ = [SALE_DIMENSIONS[n].label(DIMENSION_COLUMN[n]) for n in dims]
    if "product" in names:
        measures = [sale_lines.c.sku.label("sku"), sa.func.max(sale_lines.c.name).label("name"),
                    sa.func.count(sa.distinct(sales.c.id)).label("sales_count"),
                    sa.func.sum(sale_lines.c.quantity_milli).label("quantity_milli"),
                    sa.func.sum(sale_lines.c.amount_minor).label("amount_minor")]
        source: Any = sales.join(sale_lines, sale_lines.c.sale_row == sales.c.id)
        group = [*keys_, sale_lines.c.sku]
    elif "tender" in names:
        measures = [sale_tenders.c.type.label("tender"),
                    sa.func.count().label("tenders_count"),
                    sa.func.sum(sale_tenders.c.amount_minor).label("tendered_minor"),
                    sa.func.sum(sa.func.coalesce(sale_tenders.c.net_minor,
                                                 sale_tenders.c.amount_minor)
                                ).label("net_minor")]
        source = sales.join(sale_tenders, sale_tenders.c.sale_row == sales.c.id)
        group = [*keys_, sale_tenders.c.type]
    else:
        measures = [sa.func.count().label("sales_count"),
                    sa.func.sum(sales.c.subtotal_minor).label("subtotal_minor"),
                    sa.func.sum(sales.c.tax_minor).label("tax_minor"),
                    sa.func.sum(sales.c.total_minor).label("total_minor")]
        source = sales
        group = list(keys_)
    query = _dates(request, sales.c.business_date,
                   sa.select(*keys_, *measures).select_from(source).group_by(*group)
                   .order_by(*group))
    if store_id := request.query.get("store_id"):
        query = query.where(sales.c.store_id == store_id)
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    items = []
    for row in rows:
        item = {k: _iso(v) for k, v in row.items()}
        for name in [k for k in row if k.endswith("_minor")]:
            item[name] = int(row[name])
            item[name[:-len("_minor")]] = money_text(request, row[name])
        if "quantity_milli" in row:
            item["quantity"] = format_milli(int(row["quantity_milli"]))
            del item["quantity_milli"]
        if "total_minor" in row:
            item["average_basket"] = money_text(request, _round_div(int(row["total_minor"]),
                                                                    int(row["sales_count"])))
        items.append(item)
    dim_columns = [DIMENSION_COLUMN[n] for n in dims]
    if "product" in names:
        columns = [*dim_columns, "sku", "name", "sales_count", "quantity", "amount",
                   "amount_minor"]
    elif "tender" in names:
        columns = [*dim_columns, "tender", "tenders_count", "tendered", "net",
                   "tendered_minor", "net_minor"]
    else:
        columns = [*dim_columns, "sales_count", "subtotal", "tax", "total", "average_basket",
                   "subtotal_minor", "tax_minor", "total_minor"]
    return report_response(request, "sales-by-" + "-".join(names), columns, items,
                           {"group_by": names})


def _levels_query(request: web.Request) -> Any:
    query = (sa.select(stock_levels.c.store_id, stock_levels.c.sku,
                       stock_levels.c.on_hand_milli, catalog_products.c.name,
                       catalog_products.c.cost_minor, catalog_products.c.reorder_level_milli)
             .select_from(stock_levels.outerjoin(
                 catalog_products, catalog_products.c.sku == stock_levels.c.sku))
             .order_by(stock_levels.c.store_id, stock_levels.c.sku))
    if store_id := request.query.get("store_id"):
        query = query.where(stock_levels.c.store_id == store_id)
    return query


def value_at_cost(on_hand_milli: int, cost_minor: int | None) -> int | None:
    """On hand x unit cost in minor units, half up; None without a cost (and 0 when the
    stock is negative: a shortfall has no value, it is a problem to reconcile)."""
    if cost_minor is None:
        return None
    return _round_div(max(0, on_hand_milli) * cost_minor, 1000)


@routes.get("/api/v1/reports/inventory-valuation")
@requires(Permission.INVENTORY_READ)
async def inventory_valuation(request: web.Request) -> web.Response:
    """Stock on hand per store and SKU valued at the product's standard cost; totals per
    store in ``stores``."""
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(_levels_query(request))).all()
    items: list[dict[str, Any]] = []
    totals: dict[str, dict[str, int]] = {}
    for r in rows:
        value = value_at_cost(int(r.on_hand_milli), r.cost_minor)
        items.append({"store_id": r.store_id, "sku": r.sku, "name": r.name,
                      "on_hand": format_milli(int(r.on_hand_milli)),
                      "unit_cost": None if r.cost_minor is None
                      else money_text(request, r.cost_minor),
                      "value": None if value is None else money_text(request, value),
                      "value_minor": value})
        total = totals.setdefault(r.store_id, {"value_minor": 0, "skus": 0,
                                               "skus_without_cost": 0, "skus_below_zero": 0})
        total["skus"] += 1
        total["value_minor"] += value or 0
        total["skus_without_cost"] += value is None
        total["skus_below_zero"] += r.on_hand_milli < 0
    stores = [{"store_id": store_id, **t, "value": money_text(request, t["value_minor"])}
              for store_id, t in totals.items()]
    return report_response(request, "inventory-valuation",
                           ["store_id", "sku", "name", "on_hand", "unit_cost", "value",
                            "value_minor"], items, {"stores": stores})


@routes.get("/api/v1/reports/low-stock")
@requires(Permission.INVENTORY_READ)
async def low_stock(request: web.Request) -> web.Response:
    """SKUs at or below their reorder level in each store (products without a level are not
    listed), lowest cover first."""
    query = _levels_query(request).where(
        catalog_products.c.reorder_level_milli.is_not(None),
        stock_levels.c.on_hand_milli <= catalog_products.c.reorder_level_milli)
    async with request.app[keys.STORAGE].read() as conn:
        rows = sorted((await conn.execute(query)).all(),
                      key=lambda r: (r.store_id, r.on_hand_milli, r.sku))
    items = [{"store_id": r.store_id, "sku": r.sku, "name": r.name,
              "on_hand": format_milli(int(r.on_hand_milli)),
              "reorder_level": format_milli(int(r.reorder_level_milli)),
              "short_by": format_milli(int(r.reorder_level_milli) - int(r.on_hand_milli))}
             for r in rows]
    return report_response(request, "low-stock",
                           ["store_id", "sku", "name", "on_hand", "reorder_level", "short_by"],
                           items)
