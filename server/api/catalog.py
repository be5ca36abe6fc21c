"""Head-office API: products, scheduled prices, tax rates and employees — read them, and change
them (each change is audited and flows down to the stores through the change outbox)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem, read_json_object
from server import keys
from server.api.params import flag_param, iso_utc, limit_param, money_field
from server.auth import PRINCIPAL
from server.catalog import (
    employee_doc,
    schedule_price,
    upsert_employee,
    upsert_product,
    upsert_tax_rate,
)
from server.errors import UnknownStore
from server.roles import Permission, requires
from server.storage.tables import catalog_prices, catalog_products, employees, tax_rates
from sync.money import exponent_of, format_minor
from sync.quantities import format_milli, to_milli

routes = web.RouteTableDef()
_QUANTITY = re.compile(r"^\d{1,12}(\.\d{1,3})?$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _code(value: str, field: str) -> str:
    if not _CODE.match(value):
        raise Problem(422, f"{field}: 1-64 letters, digits, '.', '_' or '-'", field=field)
    return value


@routes.put("/api/v1/products/{sku}")
@requires(Permission.CATALOG_WRITE)
async def put_product(request: web.Request) -> web.Response:
    sku = _code(request.match_info["sku"], "sku")
    body = await read_json_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Problem(422, "name: required, 1-200 characters", field="name")
    try:
        rate = Decimal(str(body.get("tax_rate")))
        if not Decimal(0) <= rate < Decimal(100) or not isinstance(body.get("tax_rate"), str):
            raise InvalidOperation
    except InvalidOperation:
        raise Problem(422, "tax_rate: a percentage string such as \"7\" or \"8.875\"",
                      field="tax_rate") from None
    barcodes = body.get("barcodes", [])
    if not isinstance(barcodes, list) or len(barcodes) > 50 or \
            not all(isinstance(b, str) and _CODE.match(b) for b in barcodes):
        raise Problem(422, "barcodes: a list of up to 50 codes", field="barcodes")
    active = body.get("active", True)
    if not isinstance(active, bool):
        raise Problem(422, "active: true or false", field="active")
    tax_code = body.get("tax_code")
    if tax_code is not None and (not isinstance(tax_code, str) or not _CODE.match(tax_code)):
        raise Problem(422, "tax_code: a tax-rate code such as \"STD\", or absent",
                      field="tax_code")
    cost = body.get("cost")
    cost_minor = None if cost is None else money_field(request, cost, "cost")
    reorder = body.get("reorder_level")
    reorder_milli = None
    if reorder is not None:
        if not isinstance(reorder, str) or not _QUANTITY.match(reorder):
            raise Problem(422, "reorder_level: a quantity string such as \"12\" or \"2.5\", "
                               "or absent", field="reorder_level")
        reorder_milli = to_milli(reorder)
    cursor = await upsert_product(request.app[keys.STORAGE], sku, name.strip(),
                                  money_field(request, body.get("price"), "price"), str(rate),
                                  barcodes, active, tax_code, actor=request[PRINCIPAL],
                                  cost_minor=cost_minor, reorder_level_milli=reorder_milli)
    return web.json_response({"sku": sku, "change_cursor": cursor})


@routes.post("/api/v1/products/{sku}/prices")
@requires(Permission.CATALOG_WRITE)
async def post_price(request: web.Request) -> web.Response:
    sku = request.match_info["sku"]
    body = await read_json_object(request)
    try:
        effective_at = datetime.fromisoformat(str(body.get("effective_at")))
        if effective_at.tzinfo is None:
            raise ValueError
    except ValueError:
        raise Problem(422, "effective_at: an ISO 8601 instant with its UTC offset, e.g. "
                           "2026-12-01T00:00:00+01:00", field="effective_at") from None
    store_id = body.get("store_id")
    if store_id is not None and not isinstance(store_id, str):
        raise Problem(422, "store_id: a store id, or absent for every store", field="store_id")
    try:
        price = money_field(request, body.get("price"), "price")
        cursor = await schedule_price(request.app[keys.STORAGE], sku, price, effective_at,
                                      store_id, actor=request[PRINCIPAL])
    except UnknownStore as exc:
        raise Problem(422, str(exc), field="store_id") from exc
    except LookupError as exc:
        raise Problem(404, str(exc)) from exc
    return web.json_response({"sku": sku, "change_cursor": cursor}, status=201)


@routes.put("/api/v1/tax-rates/{code}")
@requires(Permission.CATALOG_WRITE)
async def put_tax_rate(request: web.Request) -> web.Response:
    """A tax rate by code: products that name the code (``tax_code``) are taxed at it, in
    every store, from the moment the store pulls the change."""
    code = _code(request.match_info["code"], "code")
    body = await read_json_object(request)
    rate, name = body.get("rate"), body.get("name")
    try:
        value = Decimal(rate) if isinstance(rate, str) else None
    except InvalidOperation:
        value = None
    if value is None or not Decimal(0) <= value < Decimal(100):
        raise Problem(422, "rate: a percentage string from 0 to 100, e.g. \"8.875\"",
                      field="rate")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Problem(422, "name: required, 1-200 characters", field="name")
    cursor = await upsert_tax_rate(request.app[keys.STORAGE], code, str(value), name.strip(),
                                   actor=request[PRINCIPAL])
    return web.json_response({"code": code, "change_cursor": cursor})


@routes.put("/api/v1/employees/{employee_id}")
@requires(Permission.EMPLOYEES_WRITE)
async def put_employee(request: web.Request) -> web.Response:
    employee_id = _code(request.match_info["employee_id"], "employee_id")
    body = await read_json_object(request)
    name, role, pin = body.get("name"), body.get("role"), body.get("pin")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Problem(422, "name: required, 1-200 characters", field="name")
    if role not in ("cashier", "manager"):
        raise Problem(422, "role: cashier or manager", field="role")
    if not isinstance(pin, str) or not pin.isdigit() or not 4 <= len(pin) <= 8:
        raise Problem(422, "pin: 4-8 digits (stored and sent to stores only as a digest)",
                      field="pin")
    active = body.get("active", True)
    if not isinstance(active, bool):
        raise Problem(422, "active: true or false", field="active")
    cursor = await upsert_employee(request.app[keys.STORAGE], employee_id, name.strip(), role,
                                   pin, active, actor=request[PRINCIPAL])
    return web.json_response({"employee_id": employee_id, "change_cursor": cursor})


def _product_json(request: web.Request, row: Any) -> dict[str, Any]:
    exponent = exponent_of(request.app[keys.SETTINGS].chain.currency)
    return {"sku": row.sku, "name": row.name, "price": format_minor(row.price_minor, exponent),
            "tax_rate": row.tax_rate, "barcodes": list(row.barcodes), "active": row.active,
            "cost": None if row.cost_minor is None else format_minor(row.cost_minor, exponent),
            "reorder_level": None if row.reorder_level_milli is None
            else format_milli(row.reorder_level_milli),
            "updated_at": iso_utc(row.updated_at)}


@routes.get("/api/v1/products")
@requires(Permission.CATALOG_READ)
async def list_products(request: web.Request) -> web.Response:
    """Products by SKU; ``q`` matches a name part or a barcode, ``active`` filters."""
    limit = limit_param(request)
    after = request.query.get("after", "")
    query = sa.select(catalog_products).where(catalog_products.c.sku > after) \
        .order_by(catalog_products.c.sku).limit(limit + 1)
    if q := request.query.get("q"):
        query = query.where(sa.or_(catalog_products.c.name.ilike(f"%{q}%"),
                                   catalog_products.c.sku == q))
    active = flag_param(request, "active")
    if active is not None:
        query = query.where(catalog_products.c.active.is_(active))
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(query)).all()
    page = rows[:limit]
    return web.json_response({"items": [_product_json(request, r) for r in page],
                              "next_after": page[-1].sku if len(rows) > limit else None})


@routes.get("/api/v1/products/{sku}")
@requires(Permission.CATALOG_READ)
async def get_product(request: web.Request) -> web.Response:
    """A product with every scheduled price (for all stores and per-store overrides)."""
    sku = request.match_info["sku"]
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(catalog_products).where(
            catalog_products.c.sku == sku))).first()
        if row is None:
            raise Problem(404, f"no product {sku!r} in the catalog")
        prices = (await conn.execute(sa.select(catalog_prices).where(
            catalog_prices.c.sku == sku).order_by(catalog_prices.c.effective_at,
                                                  catalog_prices.c.id))).all()
    exponent = exponent_of(request.app[keys.SETTINGS].chain.currency)
    body = _product_json(request, row)
    body["scheduled_prices"] = [
        {"store_id": p.store_id, "effective_at": p.effective_at,
         "price": format_minor(p.price_minor, exponent)} for p in prices]
    return web.json_response(body)


@routes.get("/api/v1/tax-rates")
@requires(Permission.CATALOG_READ)
async def list_tax_rates(request: web.Request) -> web.Response:
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(sa.select(tax_rates).order_by(tax_rates.c.code))).all()
    return web.json_response({"items": [
        {"code": r.code, "rate": r.rate, "name": r.name, "updated_at": iso_utc(r.updated_at)}
        for r in rows]})


@routes.get("/api/v1/employees")
@requires(Permission.EMPLOYEES_READ)
async def list_employees(request: web.Request) -> web.Response:
    """Employees by id (never their PIN or its digest)."""
    limit = limit_param(request)
    after = request.query.get("after", "")
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(sa.select(employees).where(employees.c.employee_id > after)
                                   .order_by(employees.c.employee_id).limit(limit + 1))).all()
    page = rows[:limit]
    return web.json_response({
        "items": [{**employee_doc(r), "updated_at": iso_utc(r.updated_at)} for r in page],
        "next_after": page[-1].employee_id if len(rows) > limit else None})


@routes.get("/api/v1/employees/{employee_id}")
@requires(Permission.EMPLOYEES_READ)
async def get_employee(request: web.Request) -> web.Response:
    employee_id = request.match_info["employee_id"]
    async with request.app[keys.STORAGE].read() as conn:
        row = (await conn.execute(sa.select(employees).where(
            employees.c.employee_id == employee_id))).first()
    if row is None:
        raise Problem(404, f"no employee {employee_id!r}")
    return web.json_response({**employee_doc(row), "updated_at": iso_utc(row.updated_at)})
