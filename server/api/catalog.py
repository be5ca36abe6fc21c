"""Head-office API: products, scheduled prices and employees — each change flows down to the
stores through the change outbox."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from aiohttp import web

from backoffice.problems import Problem, read_json_object
from server import keys
from server.auth import PRINCIPAL
from server.catalog import schedule_price, upsert_employee, upsert_product, upsert_tax_rate
from server.errors import UnknownStore
from sync.errors import InvalidAmount
from sync.money import exponent_of, parse_amount

routes = web.RouteTableDef()
WRITERS = frozenset({"admin", "manager"})
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _require_writer(request: web.Request) -> None:
    role = request[PRINCIPAL].role
    if role not in WRITERS:
        raise Problem(403, f"the {role} role may not change the catalog (admin or manager may)")


def _money(request: web.Request, value: object, field: str) -> int:
    try:
        amount = parse_amount(value, exponent_of(request.app[keys.SETTINGS].chain.currency),
                              field=field)
    except InvalidAmount as exc:
        raise Problem(422, str(exc), field=field) from None
    if amount < 0:
        raise Problem(422, f"{field}: must not be negative", field=field)
    return amount


def _code(value: str, field: str) -> str:
    if not _CODE.match(value):
        raise Problem(422, f"{field}: 1-64 letters, digits, '.', '_' or '-'", field=field)
    return value


@routes.put("/api/v1/products/{sku}")
async def put_product(request: web.Request) -> web.Response:
    _require_writer(request)
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
    cursor = await upsert_product(request.app[keys.STORAGE], sku, name.strip(),
                                  _money(request, body.get("price"), "price"), str(rate),
                                  barcodes, active, tax_code)
    return web.json_response({"sku": sku, "change_cursor": cursor})


@routes.post("/api/v1/products/{sku}/prices")
async def post_price(request: web.Request) -> web.Response:
    _require_writer(request)
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
        cursor = await schedule_price(request.app[keys.STORAGE], sku,
                                      _money(request, body.get("price"), "price"), effective_at,
                                      store_id)
    except UnknownStore as exc:
        raise Problem(422, str(exc), field="store_id") from exc
    except LookupError as exc:
        raise Problem(404, str(exc)) from exc
    return web.json_response({"sku": sku, "change_cursor": cursor}, status=201)


@routes.put("/api/v1/tax-rates/{code}")
async def put_tax_rate(request: web.Request) -> web.Response:
    """A tax rate by code: products that name the code (``tax_code``) are taxed at it, in
    every store, from the moment the store pulls the change."""
    _require_writer(request)
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
    cursor = await upsert_tax_rate(request.app[keys.STORAGE], code, str(value), name.strip())
    return web.json_response({"code": code, "change_cursor": cursor})


@routes.put("/api/v1/employees/{employee_id}")
async def put_employee(request: web.Request) -> web.Response:
    _require_writer(request)
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
                                   pin, active)
    return web.json_response({"employee_id": employee_id, "change_cursor": cursor})
