"""Head-office API: transfers between stores — order one, follow it, and see what is in
transit (shipped by one store, not yet received by the other)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem, read_json_object
from server import keys
from server.api.params import iso_utc, limit_param, money_text
from server.api.reports import value_at_cost
from server.api.tabular import report_response
from server.auth import PRINCIPAL
from server.errors import UnknownStore
from server.roles import Permission, requires
from server.storage.tables import catalog_products, transfers
from server.transfers import TransferExists, UnknownSku, create_transfer
from sync.quantities import format_milli, to_milli

routes = web.RouteTableDef()
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_QUANTITY = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,3})?$")


def _json(row: Any) -> dict[str, Any]:
    return {"transfer_id": row.transfer_id, "from_store_id": row.from_store_id,
            "to_store_id": row.to_store_id, "lines": row.lines, "note": row.note,
            "status": row.status, "created_by": row.created_by,
            "created_at": iso_utc(row.created_at),
            "shipped": None if row.shipped_seq is None else {
                "seq": row.shipped_seq, "business_date": row.shipped_date.isoformat(),
                "lines": row.shipped_lines},
            "received": None if row.received_seq is None else {
                "seq": row.received_seq, "business_date": row.received_date.isoformat(),
                "lines": row.received_lines}}


def _lines(body: dict[str, Any]) -> list[dict[str, str]]:
    raw = body.get("lines")
    if not isinstance(raw, list) or not 1 <= len(raw) <= 1000:
        raise Problem(422, "lines: 1-1000 lines of {\"sku\", \"quantity\"}", field="lines")
    lines, seen = [], set()
    for index, line in enumerate(raw):
        where = f"lines[{index}]"
        if not isinstance(line, dict) or not isinstance(line.get("sku"), str) or \
                not _ID.match(line["sku"]):
            raise Problem(422, f"{where}.sku: a SKU", field=f"{where}.sku")
        quantity = line.get("quantity")
        if not isinstance(quantity, str) or not _QUANTITY.match(quantity) or \
                to_milli(quantity) == 0:
            raise Problem(422, f"{where}.quantity: a positive quantity string such as \"12\"",
                          field=f"{where}.quantity")
        if line["sku"] in seen:
            raise Problem(422, f"{where}.sku: {line['sku']} appears twice; one line per SKU",
                          field=f"{where}.sku")
        seen.add(line["sku"])
        lines.append({"sku": line["sku"], "quantity": format_milli(to_milli(quantity))})
    return lines


@routes.post("/api/v1/transfers")
@requires(Permission.INVENTORY_WRITE)
async def post_transfer(request: web.Request) -> web.Response:
    """Order a transfer from one store to another; both stores get it at their next sync."""
    body = await read_json_object(request)
    transfer_id, source, target = (body.get("transfer_id"), body.get("from_store_id"),
                                   body.get("to_store_id"))
    if not isinstance(transfer_id, str) or not _ID.match(transfer_id):
        raise Problem(422, "transfer_id: 1-64 letters, digits, '.', '_', ':' or '-' (yours: it "
                           "makes a retried request harmless)", field="transfer_id")
    for name, value in (("from_store_id", source), ("to_store_id", target)):
        if not isinstance(value, str) or not value:
            raise Problem(422, f"{name}: a store id", field=name)
    if source == target:
        raise Problem(422, "to_store_id: must differ from from_store_id", field="to_store_id")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise Problem(422, "note: up to 500 characters", field="note")
    lines = _lines(body)
    try:
        cursor = await create_transfer(request.app[keys.STORAGE], transfer_id, str(source),
                                       str(target), lines, note, actor=request[PRINCIPAL])
    except UnknownStore as exc:
        raise Problem(422, str(exc), field="from_store_id" if str(source) in str(exc)
                      else "to_store_id") from exc
    except UnknownSku as exc:
        raise Problem(422, f"lines: {exc}", field="lines") from exc
    except TransferExists as exc:
        async with request.app[keys.STORAGE].read() as conn:
            row = (await conn.execute(sa.select(transfers).where(
                transfers.c.transfer_id == transfer_id))).one()
        same = (row.from_store_id, row.to_store_id, row.lines, row.note) == \
            (source, target, lines, note)
        if not same:
            raise Problem(409, str(exc)) from exc
        return web.json_response(_json(row))  # the same order again: the first answer
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(transfers).where(
            transfers.c.transfer_id == transfer_id))).one()
    return web.json_response({**_json(row), "change_cursor": cursor}, status=201)


@routes.get("/api/v1/transfers")
@requires(Permission.INVENTORY_READ)
async def list_transfers(request: web.Request) -> web.Response:
    """Transfers, newest first; ``status`` (ordered, shipped, received) and ``store_id``
    (either end) filter."""
    limit = limit_param(request)
    query = sa.select(transfers).order_by(transfers.c.created_at.desc(),
                                          transfers.c.transfer_id).limit(limit)
    status = request.query.get("status")
    if status is not None:
        if status not in ("ordered", "shipped", "received"):
            raise Problem(400, "status must be ordered, shipped or received", field="status")
        query = query.where(transfers.c.status == status)
    if store_id := request.query.get("store_id"):
        query = query.where(sa.or_(transfers.c.from_store_id == store_id,
                                   transfers.c.to_store_id == store_id))
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(query)).all()
    return web.json_response({"items": [_json(r) for r in rows]})


@routes.get("/api/v1/transfers/{transfer_id}")
@requires(Permission.INVENTORY_READ)
async def get_transfer(request: web.Request) -> web.Response:
    transfer_id = request.match_info["transfer_id"]
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(transfers).where(
            transfers.c.transfer_id == transfer_id))).first()
    if row is None:
        raise Problem(404, f"no transfer {transfer_id!r}")
    return web.json_response(_json(row))


@routes.get("/api/v1/reports/in-transit")
@requires(Permission.INVENTORY_READ)
async def in_transit(request: web.Request) -> web.Response:
    """Stock shipped by one store and not yet received by the other, per transfer and SKU,
    valued at standard cost."""
    query = sa.select(transfers).where(transfers.c.status == "shipped") \
        .order_by(transfers.c.shipped_date, transfers.c.transfer_id)
    if store_id := request.query.get("store_id"):
        query = query.where(sa.or_(transfers.c.from_store_id == store_id,
                                   transfers.c.to_store_id == store_id))
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(query)).all()
        skus = {line["sku"] for r in rows for line in r.shipped_lines}
        costs = {row.sku: row.cost_minor for row in await conn.execute(sa.select(
            catalog_products.c.sku, catalog_products.c.cost_minor).where(
            catalog_products.c.sku.in_(sorted(skus))))}
    items = []
    for r in rows:
        for line in r.shipped_lines:
            milli = to_milli(line["quantity"])
            value = value_at_cost(milli, costs.get(line["sku"]))
            items.append({"transfer_id": r.transfer_id, "from_store_id": r.from_store_id,
                          "to_store_id": r.to_store_id,
                          "shipped_date": r.shipped_date.isoformat(), "sku": line["sku"],
                          "quantity": format_milli(milli),
                          "value": None if value is None else money_text(request, value)})
    return report_response(request, "in-transit",
                           ["transfer_id", "from_store_id", "to_store_id", "shipped_date", "sku",
                            "quantity", "value"], items)


