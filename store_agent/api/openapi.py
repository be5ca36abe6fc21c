"""The OpenAPI 3.1 document of the POS terminal API, served at ``/api/v1/openapi.json``.

Written as data next to the routes; a test checks that every route the app serves is in it
and that every path in it is served.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

routes = web.RouteTableDef()

MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["12.34"]}
QUANTITY = {"oneOf": [{"type": "integer", "minimum": 1},
                      {"type": "string", "pattern": r"^\d+(\.\d{1,3})?$"}],
            "examples": ["2", "0.355"]}
CLIENT_ID = {"type": "string", "minLength": 8, "maxLength": 64,
             "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:-]{7,63}$",
             "description": "Chosen by the terminal (a UUID is ideal); makes retries safe."}
EMPLOYEE = {"oneOf": [{"type": "string", "maxLength": 32},
                      {"type": "object", "required": ["employee_id"],
                       "properties": {"employee_id": {"type": "string", "maxLength": 32},
                                      "pin": {"type": "string"}}}]}
MANAGER = {"type": "object", "required": ["employee_id", "pin"],
           "properties": {"employee_id": {"type": "string"}, "pin": {"type": "string"}},
           "description": "A manager's approval (their id and PIN)."}
DISCOUNT = {"type": "object", "required": ["reason"],
            "properties": {"percent": {"type": "string"}, "amount": MONEY,
                           "reason": {"type": "string", "maxLength": 64}},
            "description": "Either percent or amount, always with a reason."}
TENDER = {"type": "object", "required": ["type", "amount"],
          "properties": {"type": {"enum": ["cash", "card", "gift_card"]}, "amount": MONEY,
                         "reference": {"type": "string", "maxLength": 32,
                                       "description": "Masked, e.g. ****4242; never a full "
                                                      "card number."},
                         "approval_code": {"type": "string", "maxLength": 16}}}
LINE = {"type": "object",
        "properties": {"sku": {"type": "string"}, "barcode": {"type": "string"},
                       "quantity": QUANTITY, "discount": DISCOUNT,
                       "price_override": {"type": "object", "required": ["price", "reason"],
                                          "properties": {"price": MONEY,
                                                         "reason": {"type": "string"}}}},
        "description": "By sku or barcode (GTIN, or a scale label with embedded price or "
                       "weight). quantity defaults to 1."}
PROBLEM = {"type": "object", "required": ["type", "title", "status", "detail"],
           "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                          "status": {"type": "integer"}, "detail": {"type": "string"},
                          "field": {"type": "string"}}}
OBJECT = {"type": "object"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: int) -> dict[str, Any]:
    described = {400: "Malformed request", 401: "Missing or unknown terminal token",
                 403: "The employee may not do this (PIN, manager approval)",
                 404: "Unknown product, sale or session", 409: "Conflicts with the current state",
                 413: "Body too large", 415: "Not application/json",
                 422: "A field is invalid", 503: "A device did not answer",
                 507: "The ledger cannot grow; nothing was written"}
    return {str(s): {"description": described[s],
                     "content": {"application/problem+json": {"schema": _ref("Problem")}}}
            for s in (401, *statuses)}


def _post(summary: str, body: dict[str, Any], answer: str = "Recorded",
          statuses: tuple[int, ...] = (400, 409, 413, 415, 422, 507)) -> dict[str, Any]:
    return {"post": {
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            "201": {"description": answer, "content": {"application/json": {"schema": OBJECT}}},
            "200": {"description": "The same request again: the first answer, unchanged",
                    "content": {"application/json": {"schema": OBJECT}}},
            **_errors(*statuses)}}}


def _get(summary: str, params: tuple[dict[str, Any], ...] = (),
         statuses: tuple[int, ...] = ()) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": list(params),
                    "responses": {"200": {"description": "OK", "content": {
                        "application/json": {"schema": OBJECT}}}, **_errors(*statuses)}}}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string"},
            "description": description}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def document() -> dict[str, Any]:
    sale = _obj(["sale_id", "cashier", "lines", "tenders"], sale_id=CLIENT_ID, cashier=EMPLOYEE,
                drawer_id={"type": "string"}, lines={"type": "array", "items": LINE},
                basket_discount=DISCOUNT, tenders={"type": "array", "items": TENDER},
                manager=MANAGER)
    movement = _obj(["movement_id", "employee", "reason"], movement_id=CLIENT_ID,
                    employee=EMPLOYEE, amount=MONEY, reason={"type": "string"}, manager=MANAGER)
    session = _path_param("session_id")
    paths: dict[str, Any] = {
        "/api/v1/sales": _post("Ring up a sale (idempotent on sale_id)", sale,
                               "The sale: totals, change, receipt number and receipt",
                               (400, 403, 404, 409, 413, 415, 422, 507)),
        "/api/v1/quotes": {"post": {**_post("Price a basket without recording it",
                                            _obj(["lines"], lines={"type": "array",
                                                                   "items": LINE}),
                                            statuses=(400, 404, 415, 422))["post"],
                                    "responses": {"200": {"description": "Priced basket",
                                                          "content": {"application/json": {
                                                              "schema": OBJECT}}},
                                                  **_errors(400, 404, 415, 422)}}},
        "/api/v1/sales/{sale_id}/void": {**_post(
            "Void a sale (same business day, open session, manager)",
            _obj(["employee", "reason", "manager"], employee=EMPLOYEE,
                 reason={"type": "string"}, manager=MANAGER),
            statuses=(400, 403, 404, 409, 415, 422, 507)),
            "parameters": [_path_param("sale_id")]},
        "/api/v1/sales/{sale_id}/reprint": {"post": {
            "summary": "Queue a copy of a sale's receipt (marked COPY; no drawer kick)",
            "responses": {"202": {"description": "Queued", "content": {"application/json": {
                "schema": OBJECT}}}, **_errors(404)}},
            "parameters": [_path_param("sale_id")]},
        "/api/v1/returns": _post(
            "A return, with or without the original receipt",
            _obj(["return_id", "employee", "reason", "lines"], return_id=CLIENT_ID,
                 employee=EMPLOYEE, original_sale_id={"type": "string"},
                 reason={"type": "string"}, manager=MANAGER,
                 lines={"type": "array", "items": {"type": "object", "properties": {
                     "line_no": {"type": "integer"}, "sku": {"type": "string"},
                     "barcode": {"type": "string"}, "quantity": QUANTITY,
                     "disposition": {"enum": ["restock", "damaged"]}}}},
                 refunds={"type": "array", "items": TENDER}),
            statuses=(400, 403, 404, 409, 415, 422, 507)),
        "/api/v1/sales/summary": _get("Sales count and totals per business date",
                                      (_query("business_date", "YYYY-MM-DD"),), (400,)),
        "/api/v1/cash-sessions": {
            **_post("Open a cash session on a drawer with a float",
                    _obj(["session_id", "employee", "float"], session_id=CLIENT_ID,
                         employee=EMPLOYEE, drawer_id={"type": "string"}, float=MONEY),
                    "The session (an X report)"),
            **_get("Cash sessions, newest first",
                   (_query("status", "open or closed"),), (400,))},
        "/api/v1/cash-sessions/{session_id}/paid-in": {
            **_post("Cash paid into the drawer", movement), "parameters": [session]},
        "/api/v1/cash-sessions/{session_id}/paid-out": {
            **_post("Cash paid out of the drawer (manager)", movement,
                    statuses=(400, 403, 404, 409, 415, 422, 507)), "parameters": [session]},
        "/api/v1/cash-sessions/{session_id}/no-sale": {
            **_post("Open the drawer without a sale (audited)", movement,
                    statuses=(400, 404, 409, 415, 422, 507)), "parameters": [session]},
        "/api/v1/cash-sessions/{session_id}/x-report": {
            **_get("X report: the session so far", (), (404,)), "parameters": [session]},
        "/api/v1/cash-sessions/{session_id}/x-report/print": {"post": {
            "summary": "Queue the session's X report for its till's printer",
            "responses": {"202": {"description": "Queued", "content": {"application/json": {
                "schema": OBJECT}}}, **_errors(404)}}, "parameters": [session]},
        "/api/v1/cash-sessions/{session_id}/close": {
            **_post("Z report: count the drawer and close the session",
                    _obj(["employee", "counted"], employee=EMPLOYEE,
                         counted={"type": "object", "additionalProperties": MONEY}),
                    "The Z report: expected, counted, over/short per tender",
                    (400, 404, 409, 415, 422, 507)), "parameters": [session]},
        "/api/v1/business-days/{business_date}/close": {
            **_post("Close a business day (manager; all its sessions closed)",
                    _obj(["manager"], manager=MANAGER), statuses=(400, 403, 409, 415, 422)),
            "parameters": [_path_param("business_date")]},
        "/api/v1/punches": _post(
            "Time clock punch",
            _obj(["punch_id", "employee", "action"], punch_id=CLIENT_ID, employee=EMPLOYEE,
                 action={"enum": ["in", "break_start", "break_end", "out"]}),
            statuses=(400, 403, 409, 415, 422, 507)),
        "/api/v1/employees/{employee_id}/shift": {
            **_get("An employee's time-clock state"), "parameters": [_path_param("employee_id")]},
        "/api/v1/stock/receipts": _post(
            "Receive goods (free, or against a transfer_id)",
            _obj(["receipt_id", "employee", "lines"], receipt_id=CLIENT_ID, employee=EMPLOYEE,
                 transfer_id={"type": "string"}, reference={"type": "string"},
                 lines={"type": "array", "items": _obj(["sku", "quantity"],
                                                       sku={"type": "string"},
                                                       quantity=QUANTITY)}),
            statuses=(400, 404, 409, 415, 422, 507)),
        "/api/v1/transfers": _get("Transfers head office ordered to or from this store, with "
                                  "their status (to_ship, shipped, to_receive, received)"),
        "/api/v1/transfers/{transfer_id}/ship": {
            **_post("Ship a transfer ordered from this store (the ordered lines, or those "
                    "given); receive one with POST /api/v1/stock/receipts and its transfer_id",
                    _obj(["shipment_id", "employee"], shipment_id=CLIENT_ID, employee=EMPLOYEE,
                         lines={"type": "array", "items": _obj(["sku", "quantity"],
                                                               sku={"type": "string"},
                                                               quantity=QUANTITY)}),
                    statuses=(400, 404, 409, 415, 422, 507)),
            "parameters": [_path_param("transfer_id")]},
        "/api/v1/stock/adjustments": _post(
            "Adjust stock with a reason code",
            _obj(["adjustment_id", "employee", "sku", "delta", "reason"],
                 adjustment_id=CLIENT_ID, employee=EMPLOYEE, sku={"type": "string"},
                 delta={"type": "string"}, note={"type": "string"},
                 reason={"enum": ["damaged", "theft", "found", "expired", "correction",
                                  "sample", "other"]}),
            statuses=(400, 404, 409, 415, 422, 507)),
        "/api/v1/stock/counts": _post(
            "Record a physical count (becomes an adjustment against the ledger's figure)",
            _obj(["count_id", "employee", "lines"], count_id=CLIENT_ID, employee=EMPLOYEE,
                 lines={"type": "array", "items": _obj(["sku", "counted"],
                                                       sku={"type": "string"},
                                                       counted=QUANTITY)}),
            statuses=(400, 404, 409, 415, 422, 507)),
        "/api/v1/products": _get("Search products by name",
                                 (_query("q", "words of the name", True),
                                  _query("limit", "1-100")), (400,)),
        "/api/v1/products/{code}": {**_get("A product by barcode or SKU: price now, tax, stock",
                                           (), (404, 422)),
                                    "parameters": [_path_param("code")]},
        "/api/v1/scale": _get("The weight on the checkout scale when stable (409 in motion, "
                              "over capacity or under zero; 503 when it does not answer)",
                              (), (404, 409, 503)),
        "/api/v1/status": _get("Agent status: unsynced events, last sync, clock skew, devices"),
        "/api/v1/events": {"get": {"summary": "Live notices (Server-Sent Events)",
                                   "responses": {"200": {"description": "text/event-stream",
                                                         "content": {"text/event-stream": {
                                                             "schema": {"type": "string"}}}},
                                                 **_errors()}}},
        "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                         "responses": {"200": {"description": "OpenAPI",
                                                               "content": {"application/json": {
                                                                   "schema": OBJECT}}}}}},
        "/healthz": {"get": {"summary": "Liveness", "security": [],
                             "responses": {"200": {"description": "OK", "content": {
                                 "application/json": {"schema": OBJECT}}}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "retail-backoffice store agent — POS terminal API", "version": "1",
                 "description": "See docs/pos-api.md. Amounts are decimal strings; errors are "
                                "application/problem+json."},
        "servers": [{"url": "/"}],
        "security": [{"terminalToken": []}],
        "components": {
            "securitySchemes": {"terminalToken": {"type": "http", "scheme": "bearer",
                                                  "description": "The terminal's token from "
                                                                 "[terminals] in store.toml"}},
            "schemas": {"Problem": PROBLEM}},
        "paths": paths,
    }


@routes.get("/api/v1/openapi.json")
async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(document())
