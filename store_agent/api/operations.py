"""Routes: the time clock, stock (receive, adjust, count, ship a transfer, on hand) and
product lookup."""

from __future__ import annotations

from aiohttp import web
from sqlite_utils import Database

from backoffice.problems import Problem
from drivers.scale import ScaleFault, ScaleState
from store_agent import keys
from store_agent.api.common import read, run_action
from store_agent.catalog import find_by_barcode, find_by_sku, product_view, search
from store_agent.clock import utc_text
from store_agent.errors import UnknownProduct
from store_agent.stock import adjust, count, receive
from store_agent.timeclock import punch
from store_agent.transfers import list_transfers, ship
from sync.money import format_minor

routes = web.RouteTableDef()


@routes.post("/api/v1/punches")
async def post_punch(request: web.Request) -> web.Response:
    return await run_action(request, punch)


@routes.get("/api/v1/employees/{employee_id}/shift")
async def get_shift(request: web.Request) -> web.Response:
    employee_id = request.match_info["employee_id"]
    row = await read(request, lambda db: db.execute(
        "SELECT state, since FROM shifts WHERE employee_id = ?", [employee_id]).fetchone())
    state, since = row if row else ("off", None)
    return web.json_response({"employee_id": employee_id, "state": state, "since": since})


@routes.post("/api/v1/stock/receipts")
async def post_receipt(request: web.Request) -> web.Response:
    return await run_action(request, lambda db, store, terminal, body, now: receive(
        db, store, body, now))


@routes.post("/api/v1/transfers/{transfer_id}/ship")
async def post_shipment(request: web.Request) -> web.Response:
    transfer_id = request.match_info["transfer_id"]
    return await run_action(request, lambda db, store, terminal, body, now: ship(
        db, store, body, now, transfer_id))


@routes.get("/api/v1/transfers")
async def get_transfers(request: web.Request) -> web.Response:
    return web.json_response({"items": await read(request, list_transfers)})


@routes.get("/api/v1/scale")
async def get_weight(request: web.Request) -> web.Response:
    """The weight on the checkout scale, when it is stable."""
    if keys.SCALE not in request.app:
        raise Problem(404, "no scale is configured at this store ([scale] url in its config)")
    try:
        weighing = await request.app[keys.SCALE].weigh()
    except ScaleFault as exc:
        raise Problem(503, str(exc), state=exc.state.value) from exc
    if weighing.state != ScaleState.STABLE:
        what = weighing.state.value.replace("_", " ")
        raise Problem(409, f"the scale is {what}: wait for a stable weight"
                      if weighing.state == ScaleState.IN_MOTION else
                      f"the scale is {what}: take the goods off and zero it",
                      state=weighing.state.value)
    return web.json_response({"state": "stable", "weight_kg": str(weighing.kilograms)})


@routes.post("/api/v1/stock/adjustments")
async def post_adjustment(request: web.Request) -> web.Response:
    return await run_action(request, lambda db, store, terminal, body, now: adjust(
        db, store, body, now))


@routes.post("/api/v1/stock/counts")
async def post_count(request: web.Request) -> web.Response:
    return await run_action(request, lambda db, store, terminal, body, now: count(
        db, store, body, now))


@routes.get("/api/v1/products")
async def search_products(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    limit_text = request.query.get("limit", "20")
    if not query or len(query) > 100:
        raise Problem(400, "q (1-100 characters) is required: words of the product's name",
                      field="q")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
        raise Problem(400, "limit must be 1-100", field="limit")
    store, now = request.app[keys.STORE], utc_text(request.app[keys.CLOCK].now())

    def work(db: Database) -> list[dict[str, object]]:
        return [product_view(db, find_by_sku(db, sku, "q", now), store.exponent)
                for sku in search(db, query, int(limit_text))]

    return web.json_response({"items": await read(request, work)})


@routes.get("/api/v1/products/{code}")
async def get_product(request: web.Request) -> web.Response:
    """A product by barcode (GTIN, internal code or scale label) or by SKU."""
    code = request.match_info["code"]
    store, now = request.app[keys.STORE], utc_text(request.app[keys.CLOCK].now())

    def work(db: Database) -> dict[str, object]:
        try:
            scanned = find_by_barcode(db, code, "code", now, store.labels)
            view = product_view(db, scanned.product, store.exponent)
            if scanned.embedded_price_minor is not None:
                view["label_price"] = format_minor(scanned.embedded_price_minor,
                                                   store.exponent)
            if scanned.embedded_weight_kg is not None:
                view["label_weight_kg"] = str(scanned.embedded_weight_kg)
            return view
        except UnknownProduct:
            product = find_by_sku(db, code, "code", now)
            return product_view(db, product, store.exponent)

    return web.json_response(await read(request, work))
