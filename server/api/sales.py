"""Head-office API: sales as they arrived from the stores."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem
from server import keys
from server.api.params import cursor_param, date_param, encode_cursor, limit_param, money_text
from server.roles import Permission, requires
from server.storage.tables import sale_lines, sale_tenders, sales
from sync.quantities import format_milli

routes = web.RouteTableDef()


def _sale_json(request: web.Request, row: Any) -> dict[str, Any]:
    return {"sale_id": row.sale_id, "store_id": row.store_id, "seq": row.seq,
            "terminal_id": row.terminal_id, "receipt_no": row.receipt_no,
            "business_date": row.business_date.isoformat(), "recorded_at": row.recorded_at,
            "cashier": row.cashier, "currency": row.currency,
            "subtotal": money_text(request, row.subtotal_minor),
            "tax": money_text(request, row.tax_minor),
            "total": money_text(request, row.total_minor),
            "change_due": money_text(request, row.change_due_minor), "line_count": row.line_count}


@routes.get("/api/v1/sales")
@requires(Permission.SALES_READ)
async def list_sales(request: web.Request) -> web.Response:
    limit = limit_param(request)
    after = cursor_param(request)
    query = sa.select(sales).where(sales.c.id > after).order_by(sales.c.id).limit(limit + 1)
    if store_id := request.query.get("store_id"):
        query = query.where(sales.c.store_id == store_id)
    if (day := date_param(request, "business_date")) is not None:
        query = query.where(sales.c.business_date == day)
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(query)).all()
    page, more = rows[:limit], len(rows) > limit
    return web.json_response({
        "items": [_sale_json(request, r) for r in page],
        "next_cursor": encode_cursor(page[-1].id) if more else None,
    })


@routes.get("/api/v1/sales/{sale_id}")
@requires(Permission.SALES_READ)
async def get_sale(request: web.Request) -> web.Response:
    sale_id = request.match_info["sale_id"]
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(sales).where(sales.c.sale_id == sale_id))).first()
        if row is None:
            raise Problem(404, f"no sale {sale_id!r} has reached head office")
        lines = (await conn.execute(sa.select(sale_lines).where(sale_lines.c.sale_row == row.id)
                                    .order_by(sale_lines.c.line_no))).all()
        tenders = (await conn.execute(sa.select(sale_tenders).where(
            sale_tenders.c.sale_row == row.id).order_by(sale_tenders.c.tender_no))).all()
    body = _sale_json(request, row)
    body["lines"] = [{"line_no": ln.line_no, "sku": ln.sku, "name": ln.name,
                      "quantity": format_milli(ln.quantity_milli),
                      "unit_price": money_text(request, ln.unit_price_minor),
                      "amount": money_text(request, ln.amount_minor), "tax_rate": ln.tax_rate}
                     for ln in lines]
    body["tenders"] = [{"type": t.type, "amount": money_text(request, t.amount_minor),
                        "reference": t.reference} for t in tenders]
    return web.json_response(body)
