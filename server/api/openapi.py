"""The OpenAPI 3.1 document of the head-office API (``/api/v1/openapi.json``) and a page that
renders it (``/api/v1/docs``).

Each operation's parameters, body and answers are declared here as data, keyed like the routes
(``"GET /api/v1/stores/{store_id}"``); who may call it comes from the route's declared
permission (server/roles.py), so the document cannot disagree with the auth middleware. A test
checks that every served route is documented and every documented one is served, and
schemathesis drives the API from this document.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from aiohttp import web

from server.roles import holders, permission_of

routes = web.RouteTableDef()

# --- schema building blocks ------------------------------------------------------------------

STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}
NULLABLE_INT: dict[str, Any] = {"type": ["integer", "null"]}
MONEY: dict[str, Any] = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
                         "examples": ["12.34"]}
NULLABLE_MONEY: dict[str, Any] = {"anyOf": [MONEY, {"type": "null"}]}
QUANTITY: dict[str, Any] = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,3})?$",
                            "examples": ["2", "0.355"]}
NULLABLE_QUANTITY: dict[str, Any] = {"anyOf": [QUANTITY, {"type": "null"}]}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
INSTANT: dict[str, Any] = {"type": "string", "format": "date-time"}
NULLABLE_INSTANT: dict[str, Any] = {"anyOf": [INSTANT, {"type": "null"}]}
CODE: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}
JSON_ANY: dict[str, Any] = {}


def obj(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    """An object schema; ``required`` defaults to every property."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def page(item: str, cursor: str = "next_cursor") -> dict[str, Any]:
    return {"type": "object", "required": ["items", cursor], "properties": {
        "items": {"type": "array", "items": ref(item)}, cursor: NULLABLE_STR}}


def listing(item: str) -> dict[str, Any]:
    return obj(items={"type": "array", "items": ref(item)})


SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": obj(["type", "title", "status", "detail"], type=STR, title=STR, status=INT,
                   detail=STR, field=STR),
    "Store": obj(
        store_id=STR, name=STR, timezone=STR, enrolled_at=INSTANT,
        sync=obj(high_water_seq=INT, last_hash=STR, last_seen_at=NULLABLE_INSTANT,
                 store_head_seq=NULLABLE_INT, events_behind=NULLABLE_INT,
                 clock_skew_seconds=NULLABLE_INT),
        nightly_reconciliation={"anyOf": [obj(checked_at=INSTANT, through_seq=INT,
                                              matches=BOOL, differences=JSON_ANY),
                                          {"type": "null"}]},
        open_reconciliation_items=INT, revoked=BOOL),
    "EnrolledStore": obj(store_id=STR, name=STR, timezone=STR, sync_token=STR),
    "StoreToken": obj(store_id=STR, sync_token=STR),
    "StoreRevoked": obj(store_id=STR, revoked=BOOL),
    "Sale": obj(sale_id=STR, store_id=STR, seq=INT, terminal_id=STR, receipt_no=INT,
                business_date=DATE, recorded_at=STR, cashier=STR, currency=STR,
                subtotal=MONEY, tax=MONEY, total=MONEY, change_due=MONEY, line_count=INT),
    "SaleDetail": {"allOf": [ref("Sale"), obj(
        lines={"type": "array", "items": obj(line_no=INT, sku=STR, name=STR,
                                             quantity=QUANTITY, unit_price=MONEY,
                                             amount=MONEY, tax_rate=STR)},
        tenders={"type": "array", "items": obj(type=STR, amount=MONEY, reference=STR)})]},
    "Product": obj(sku=STR, name=STR, price=MONEY, tax_rate=STR,
                   barcodes={"type": "array", "items": STR}, active=BOOL,
                   cost=NULLABLE_MONEY, reorder_level=NULLABLE_QUANTITY, updated_at=INSTANT),
    "ProductDetail": {"allOf": [ref("Product"), obj(scheduled_prices={
        "type": "array", "items": obj(store_id=NULLABLE_STR, effective_at=STR,
                                      price=MONEY)})]},
    "ProductChange": obj(sku=STR, change_cursor=INT),
    "TaxRate": obj(code=STR, rate=STR, name=STR, updated_at=INSTANT),
    "TaxRateChange": obj(code=STR, change_cursor=INT),
    "Employee": obj(employee_id=STR, name=STR, role={"enum": ["cashier", "manager"]},
                    active=BOOL, updated_at=INSTANT),
    "EmployeeChange": obj(employee_id=STR, change_cursor=INT),
    "ReconciliationItem": obj(id=INT, store_id=STR, seq=INT, kind=STR,
                              detail={"type": "object"},
                              status={"enum": ["open", "resolved"]}, created_at=INSTANT,
                              resolved_by=NULLABLE_STR, resolved_at=NULLABLE_INSTANT,
                              resolution=NULLABLE_STR),
    "ApiToken": obj(id=INT, name=STR, role=STR, created_at=INSTANT,
                    revoked_at=NULLABLE_INSTANT),
    "IssuedApiToken": obj(id=INT, name=STR, role=STR, token=STR),
    "AuditEntry": obj(id=INT, at=INSTANT, actor=STR, actor_role=STR,
                      actor_token_id=NULLABLE_INT, action=STR, target=STR,
                      before={"type": ["object", "null"]}, after={"type": ["object", "null"]}),
    "Transfer": obj(
        ["transfer_id", "from_store_id", "to_store_id", "lines", "note", "status",
         "created_by", "created_at", "shipped", "received"],
        transfer_id=STR, from_store_id=STR, to_store_id=STR,
        lines={"type": "array", "items": obj(sku=STR, quantity=QUANTITY)},
        note=NULLABLE_STR, status={"enum": ["ordered", "shipped", "received"]},
        created_by=STR, created_at=INSTANT, change_cursor=INT,
        shipped={"anyOf": [obj(seq=INT, business_date=DATE, lines={"type": "array"}),
                           {"type": "null"}]},
        received={"anyOf": [obj(seq=INT, business_date=DATE, lines={"type": "array"}),
                            {"type": "null"}]}),
    "Report": obj(["columns", "items"], columns={"type": "array", "items": STR},
                  items={"type": "array", "items": {"type": "object"}}),
    "InventoryItem": obj(sku=STR, name=NULLABLE_STR, on_hand=QUANTITY,
                         reorder_level=NULLABLE_QUANTITY, low=BOOL, unit_cost=NULLABLE_MONEY,
                         value=NULLABLE_MONEY),
    "Inventory": obj(store_id=STR, items={"type": "array", "items": ref("InventoryItem")},
                     next_after=NULLABLE_STR),
    "Movements": obj(store_id=STR, sku=STR, items={"type": "array", "items": obj(
        seq=INT, kind=STR, reference=STR, business_date=DATE, delta=QUANTITY,
        on_hand_after=QUANTITY)}, next_cursor=NULLABLE_STR),
}

# --- parameters ------------------------------------------------------------------------------

LIMIT = {"name": "limit", "in": "query", "description": "Page size, 1-1000 (default 100)",
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
CURSOR = {"name": "cursor", "in": "query", "description": "next_cursor of the previous page",
          "schema": STR}
AFTER = {"name": "after", "in": "query", "description": "next_after of the previous page",
         "schema": STR}
FROM = {"name": "from", "in": "query", "description": "First business date (YYYY-MM-DD)",
        "schema": DATE}
TO = {"name": "to", "in": "query", "description": "Last business date (YYYY-MM-DD)",
      "schema": DATE}
FORMAT = {"name": "format", "in": "query", "description": "json (default) or csv",
          "schema": {"enum": ["json", "csv"]}}


def query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema or STR}


STORE_FILTER = query("store_id", "Only this store")

# --- operations ------------------------------------------------------------------------------


def op(answer: str, *, status: int = 200, params: tuple[dict[str, Any], ...] = (),
       body: dict[str, Any] | None = None, errors: tuple[int, ...] = (),
       csv: bool = False) -> dict[str, Any]:
    """One operation: its parameters, optional JSON body, answer schema and error statuses."""
    content: dict[str, Any] = {"application/json": {"schema": ref(answer)}}
    if csv:
        content["text/csv"] = {"schema": STR}
    spec: dict[str, Any] = {"parameters": list(params),
                            "responses": {str(status): {"description": answer,
                                                        "content": content}},
                            "errors": (400 if params or body else None, *errors)}
    if body is not None:
        spec["requestBody"] = {"required": True,
                               "content": {"application/json": {"schema": body}}}
        spec["errors"] = (*spec["errors"], 413, 415, 422)
    return spec


PRODUCT_BODY = obj(["name", "price", "tax_rate"], name={"type": "string", "maxLength": 200},
                   price=MONEY, tax_rate=STR, tax_code=CODE,
                   barcodes={"type": "array", "items": CODE, "maxItems": 50}, active=BOOL,
                   cost=MONEY, reorder_level=QUANTITY)
REPORT = ("Report",)

OPERATIONS: dict[str, dict[str, Any]] = {
    "GET /api/v1/stores": op("StoreList"),
    "GET /api/v1/stores/{store_id}": op("Store", errors=(404,)),
    "POST /api/v1/stores": op("EnrolledStore", status=201, errors=(409,), body=obj(
        store_id={"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"},
        name={"type": "string", "minLength": 1, "maxLength": 200}, timezone=STR)),
    "POST /api/v1/stores/{store_id}/rotate-token": op("StoreToken", errors=(404,)),
    "POST /api/v1/stores/{store_id}/revoke-token": op("StoreRevoked", errors=(404,)),
    "GET /api/v1/stores/{store_id}/inventory": op(
        "Inventory", errors=(404,),
        params=(LIMIT, AFTER, query("low_only", "true: only SKUs at or below their reorder "
                                    "level", {"enum": ["true", "false"]}))),
    "GET /api/v1/stores/{store_id}/inventory/{sku}/movements": op(
        "Movements", errors=(404,), params=(LIMIT, CURSOR)),
    "GET /api/v1/sales": op("SalePage", params=(
        STORE_FILTER, query("business_date", "Only this business date", DATE), LIMIT, CURSOR)),
    "GET /api/v1/sales/{sale_id}": op("SaleDetail", errors=(404,)),
    "GET /api/v1/products": op("ProductPage", params=(
        query("q", "Part of the name, or the exact SKU"),
        query("active", "true or false", {"enum": ["true", "false"]}), LIMIT, AFTER)),
    "GET /api/v1/products/{sku}": op("ProductDetail", errors=(404,)),
    "PUT /api/v1/products/{sku}": op("ProductChange", body=PRODUCT_BODY),
    "POST /api/v1/products/{sku}/prices": op(
        "ProductChange", status=201, errors=(404,),
        body=obj(["price", "effective_at"], price=MONEY, effective_at=INSTANT,
                 store_id=STR)),
    "GET /api/v1/tax-rates": op("TaxRateList"),
    "PUT /api/v1/tax-rates/{code}": op("TaxRateChange", body=obj(
        rate={"type": "string", "examples": ["8.875"]},
        name={"type": "string", "minLength": 1, "maxLength": 200})),
    "GET /api/v1/employees": op("EmployeePage", params=(LIMIT, AFTER)),
    "GET /api/v1/employees/{employee_id}": op("Employee", errors=(404,)),
    "PUT /api/v1/employees/{employee_id}": op("EmployeeChange", body=obj(
        ["name", "role", "pin"], name={"type": "string", "minLength": 1, "maxLength": 200},
        role={"enum": ["cashier", "manager"]},
        pin={"type": "string", "pattern": "^[0-9]{4,8}$"}, active=BOOL)),
    "GET /api/v1/reconciliation-items": op("ReconciliationItemPage", params=(
        query("status", "open or resolved", {"enum": ["open", "resolved"]}), STORE_FILTER,
        LIMIT, CURSOR)),
    "GET /api/v1/reconciliation-items/{item_id}": op("ReconciliationItem", errors=(404,)),
    "POST /api/v1/reconciliation-items/{item_id}/resolve": op(
        "ReconciliationItem", errors=(404, 409),
        body=obj(resolution={"type": "string", "minLength": 1, "maxLength": 500})),
    "GET /api/v1/api-tokens": op("ApiTokenList"),
    "POST /api/v1/api-tokens": op("IssuedApiToken", status=201, body=obj(
        name={"type": "string", "minLength": 1, "maxLength": 200},
        role={"enum": ["admin", "manager", "accountant", "payroll", "auditor"]})),
    "DELETE /api/v1/api-tokens/{token_id}": op("ApiToken", errors=(404, 409)),
    "GET /api/v1/audit-log": op("AuditPage", params=(
        query("target", "e.g. product:1001"), query("action", "e.g. price.schedule"),
        query("actor", "Token name"), LIMIT, CURSOR)),
    "GET /api/v1/reports/sales-by-store": op(*REPORT, csv=True,
                                             params=(FROM, TO, STORE_FILTER, FORMAT)),
    "GET /api/v1/reports/sales": op(*REPORT, csv=True, params=(
        query("group_by", "Comma-separated: store, day, hour, cashier, terminal, and at most "
                          "one of product or tender (default store,day)"),
        FROM, TO, STORE_FILTER, FORMAT)),
    "GET /api/v1/reports/inventory-valuation": op(*REPORT, csv=True,
                                                  params=(STORE_FILTER, FORMAT)),
    "GET /api/v1/reports/low-stock": op(*REPORT, csv=True, params=(STORE_FILTER, FORMAT)),
    "GET /api/v1/reports/in-transit": op(*REPORT, csv=True, params=(STORE_FILTER, FORMAT)),
    "POST /api/v1/transfers": op("Transfer", status=201, errors=(409,), body=obj(
        ["transfer_id", "from_store_id", "to_store_id", "lines"], transfer_id=CODE,
        from_store_id=STR, to_store_id=STR, note={"type": "string", "maxLength": 500},
        lines={"type": "array", "minItems": 1, "maxItems": 1000, "items": obj(
            sku=CODE, quantity=QUANTITY)})),
    "GET /api/v1/transfers": op("TransferList", params=(
        query("status", "ordered, shipped or received",
              {"enum": ["ordered", "shipped", "received"]}), STORE_FILTER, LIMIT)),
    "GET /api/v1/transfers/{transfer_id}": op("Transfer", errors=(404,)),
}
ACCOUNT_CODE = {"type": "string", "pattern": "^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$"}
ENTRY_LINE = obj(["account"], account=ACCOUNT_CODE, debit=MONEY, credit=MONEY,
                 store_id=STR, sub=CODE)
AS_OF = query("as_of", "Balances at the end of this posting date (default: all)", DATE)
POSTED_FROM = query("from", "First posting date (YYYY-MM-DD)", DATE)
POSTED_TO = query("to", "Last posting date (YYYY-MM-DD)", DATE)
EXPORT = op("Report", params=(
    query("format", "beancount (default) or csv", {"enum": ["beancount", "csv"]}),
    POSTED_FROM, POSTED_TO))
EXPORT["responses"]["200"]["content"] = {"text/plain": {"schema": STR},
                                         "text/csv": {"schema": STR}}
OPERATIONS.update({
    "GET /api/v1/accounts": op("AccountList"),
    "POST /api/v1/accounts": op("Account", status=201, errors=(409,), body=obj(
        code=ACCOUNT_CODE, name={"type": "string", "minLength": 1, "maxLength": 200},
        type={"enum": ["asset", "liability", "equity", "revenue", "expense"]})),
    "PATCH /api/v1/accounts/{code}": op("Account", errors=(404, 409), body=obj(active=BOOL)),
    "DELETE /api/v1/accounts/{code}": op("AccountDeleted", errors=(404, 409)),
    "GET /api/v1/journal-entries": op("JournalEntryPage", params=(
        POSTED_FROM, POSTED_TO, STORE_FILTER,
        query("source", "Event kind, manual, reversal or year_close"), LIMIT, CURSOR)),
    "GET /api/v1/journal-entries/{entry_key}": op("JournalEntry", errors=(404,)),
    "POST /api/v1/journal-entries": op("JournalEntry", status=201, errors=(409,), body=obj(
        ["entry_id", "business_date", "memo", "lines"], entry_id=CODE, business_date=DATE,
        memo={"type": "string", "minLength": 1, "maxLength": 500},
        lines={"type": "array", "minItems": 2, "maxItems": 500, "items": ENTRY_LINE})),
    "POST /api/v1/journal-entries/{entry_key}/reverse": op(
        "JournalEntry", status=201, errors=(404, 409), body=obj(
            business_date=DATE, memo={"type": "string", "minLength": 1, "maxLength": 500})),
    "GET /api/v1/books/trial-balance": op(*REPORT, csv=True, params=(
        AS_OF, STORE_FILTER, query("by_sub", "true: one row per sub-account (tax rate, "
                                   "tender, transfer)", {"enum": ["true", "false"]}), FORMAT)),
    "GET /api/v1/books/income-statement": op(*REPORT, csv=True, params=(
        POSTED_FROM, POSTED_TO, STORE_FILTER, FORMAT)),
    "GET /api/v1/books/balance-sheet": op(*REPORT, csv=True, params=(AS_OF, STORE_FILTER,
                                                                     FORMAT)),
    "GET /api/v1/books/ledger/{code}": op("Ledger", errors=(404,), params=(
        POSTED_FROM, POSTED_TO, STORE_FILTER, LIMIT, CURSOR)),
    "GET /api/v1/books/sales-tax": op(*REPORT, csv=True, params=(
        POSTED_FROM, POSTED_TO, STORE_FILTER, FORMAT)),
    "GET /api/v1/books/cash-over-short": op(*REPORT, csv=True, params=(
        FROM, TO, STORE_FILTER, FORMAT)),
    "GET /api/v1/books/inventory-valuation": op(*REPORT, csv=True, params=(STORE_FILTER,
                                                                           FORMAT)),
    "GET /api/v1/books/export": EXPORT,
    "POST /api/v1/books/verify": op("Verification", params=(STORE_FILTER,)),
    "GET /api/v1/books/posting": op("PostingStatus"),
    "POST /api/v1/books/post-pending": op("PostedCounts"),
    "GET /api/v1/books/jobs": op("JobRunList", params=(LIMIT,)),
    "POST /api/v1/books/jobs/nightly/run": op("NightlyRun", errors=(409,)),
    "GET /api/v1/fiscal-periods": op("PeriodList"),
    "POST /api/v1/fiscal-periods/{period}/close": op("ClosedPeriod", status=201,
                                                     errors=(400, 409)),
    "POST /api/v1/fiscal-years/{year}/close": op("ClosedYear", status=201, errors=(400, 409)),
})
SCHEMAS.update({
    "Account": obj(code=STR, name=STR, type=STR, role=NULLABLE_STR, active=BOOL,
                   created_at=INSTANT),
    "AccountList": listing("Account"),
    "AccountDeleted": obj(code=STR, deleted=BOOL),
    "JournalEntry": obj(
        entry_key=STR, store_id=NULLABLE_STR, source=STR, seq=NULLABLE_INT,
        business_date=DATE, posted_date=DATE, currency=STR, memo=STR, late=BOOL,
        reverses=NULLABLE_STR, created_by=NULLABLE_STR, created_at=INSTANT,
        lines={"type": "array", "items": obj(
            line_no=INT, account=STR, store_id=NULLABLE_STR, sub=STR, debit=NULLABLE_MONEY,
            credit=NULLABLE_MONEY, amount_minor=INT)}),
    "JournalEntryPage": page("JournalEntry"),
    "Ledger": obj(account=ref("Account"), store_id=NULLABLE_STR, opening_balance=MONEY,
                  items={"type": "array", "items": obj(
                      posted_date=DATE, business_date=DATE, entry_key=STR, source=STR,
                      memo=STR, store_id=NULLABLE_STR, sub=STR, amount=MONEY,
                      amount_minor=INT, balance=MONEY, balance_minor=INT, late=BOOL)},
                  next_cursor=NULLABLE_STR),
    "Verification": obj(ok=BOOL, events=INT, entries=INT, started_at=INSTANT,
                        seconds={"type": "number"},
                        differences={"type": "array", "items": {"type": "object"}}),
    "PostingStatus": obj(items={"type": "array", "items": obj(
        store_id=STR, held_through=INT, posted_through=INT, pending=INT,
        stuck_seq=NULLABLE_INT, stuck_reason=NULLABLE_STR)}),
    "PostedCounts": obj(posted={"type": "object",
                                "additionalProperties": {"type": "integer"}},
                        failed={"type": "object", "additionalProperties": STR}),
    "PeriodList": obj(items={"type": "array", "items": obj(
        period=STR, status=STR, closed_at=INSTANT, closed_by=STR)}),
    "ClosedPeriod": obj(period=STR, status=STR, closed_by=STR),
    "ClosedYear": obj(year=INT, closed=BOOL),
    "JobRunList": obj(items={"type": "array", "items": obj(
        id=INT, job=STR, slot=STR, runner=STR, started_at=INSTANT,
        finished_at=NULLABLE_INSTANT, outcome={"enum": ["running", "ok", "differences",
                                                         "failed"]},
        detail={"type": ["object", "null"]})}),
    "NightlyRun": obj(["slot", "outcome"], slot=STR, outcome=STR),
})
SCHEMAS.update({
    "StoreList": listing("Store"), "SalePage": page("Sale"),
    "ProductPage": page("Product", "next_after"), "TaxRateList": listing("TaxRate"),
    "EmployeePage": page("Employee", "next_after"),
    "ReconciliationItemPage": page("ReconciliationItem"), "ApiTokenList": listing("ApiToken"),
    "AuditPage": page("AuditEntry"), "TransferList": listing("Transfer"),
})

# --- payroll (docs/payroll.md) ---------------------------------------------------------------

W4_BODY = obj([], filing_status={"enum": ["single", "married_jointly", "head_of_household"]},
              step2_checkbox=BOOL, dependents_credit=MONEY, other_income=MONEY,
              deductions=MONEY, extra_withholding=MONEY, exempt=BOOL)
SHIFT = obj(key=STR, store_id=STR, start=INSTANT, end=NULLABLE_INSTANT, workday=DATE,
            break_minutes=INT, worked_minutes=INT, problems={"type": "array", "items": STR},
            punch_ids={"type": "array", "items": STR}, corrected_by=NULLABLE_STR)
MINUTES = obj(by_multiplier={"type": "object", "additionalProperties": INT},
              by_day={"type": "object", "additionalProperties": {
                  "type": "object", "additionalProperties": INT}})
RUN_ACTION = op("PayRun", errors=(404, 409, 422))
PAY_RUN_ID = {"type": "string", "minLength": 1, "maxLength": 64}
OPERATIONS.update({
    "GET /api/v1/payroll/schedules": op("PayScheduleList"),
    "PUT /api/v1/payroll/schedules/{code}": op("PaySchedule", errors=(404, 409), body=obj(
        ["frequency"], frequency={"enum": ["weekly", "biweekly", "semimonthly", "monthly"]},
        anchor=DATE, pay_lag_days={"type": "integer", "minimum": 0, "maximum": 31})),
    "GET /api/v1/payroll/employees/{employee_id}": op("PayProfile", errors=(404,)),
    "PUT /api/v1/payroll/employees/{employee_id}": op("PayProfile", errors=(404,), body=obj(
        ["pay_type", "home_store_id", "work_state", "schedule"],
        pay_type={"enum": ["hourly", "salaried"]}, home_store_id=STR,
        work_state={"type": "string", "pattern": "^[A-Za-z]{2}$"}, schedule=STR, w4=W4_BODY,
        bank_account={"anyOf": [obj(["routing", "account"], routing=STR, account=STR,
                                    account_type={"enum": ["checking", "savings"]}),
                                {"type": "null"}]})),
    "POST /api/v1/payroll/employees/{employee_id}/rates": op(
        "PayProfile", status=201, errors=(404, 409), body=obj(effective_from=DATE, rate=MONEY)),
    "PUT /api/v1/payroll/employees/{employee_id}/deductions": op(
        "PayProfile", errors=(404,), body=obj(deductions={
            "type": "array", "maxItems": 20, "items": obj(
                ["kind"], kind=STR, amount=MONEY, percent=STR, annual_cap=MONEY,
                balance=MONEY,
                reference={"type": "string", "minLength": 1, "maxLength": 64})})),
    "GET /api/v1/payroll/timesheets": op("TimesheetList", params=(
        {**query("week_start", "The workweek's first day (YYYY-MM-DD)", DATE),
         "required": True},
        query("status", "closed or approved", {"enum": ["closed", "approved"]}))),
    "GET /api/v1/payroll/timesheets/{employee_id}/{week_start}": op(
        "Timesheet", errors=(400, 404)),
    "POST /api/v1/payroll/corrections": op("ShiftCorrection", status=201, errors=(404, 409),
                                           body=obj(
        ["employee_id", "action", "reason"], employee_id=STR,
        action={"enum": ["set", "void"]}, shift_key=STR, store_id=STR, start=INSTANT,
        end=INSTANT, break_minutes={"type": "integer", "minimum": 0},
        reason={"type": "string", "minLength": 1, "maxLength": 500})),
    "POST /api/v1/payroll/timesheets/{employee_id}/{week_start}/approve": op(
        "Timesheet", errors=(400, 404, 409, 422)),
    "POST /api/v1/payroll/timesheets/{week_start}/approve-all": op(
        "ApprovedTimesheets", errors=(400, 409, 422), params=(STORE_FILTER,)),
    "GET /api/v1/payroll/runs": op("PayRunList"),
    "POST /api/v1/payroll/runs": op("PayRun", status=201, errors=(404, 409), body=obj(
        ["schedule"], kind={"enum": ["regular", "off_cycle"]}, schedule=STR,
        period_start=DATE, pay_date=DATE, corrects_run_id=PAY_RUN_ID,
        earnings={"type": "array", "items": obj(["employee_id", "amount"], employee_id=STR,
                                                code=STR, amount=MONEY)})),
    "GET /api/v1/payroll/runs/{run_id}": op("PayRun", errors=(404,)),
    "POST /api/v1/payroll/runs/{run_id}/recompute": RUN_ACTION,
    "POST /api/v1/payroll/runs/{run_id}/approve": RUN_ACTION,
    "POST /api/v1/payroll/runs/{run_id}/post": RUN_ACTION,
    "GET /api/v1/payroll/runs/{run_id}/register": op(*REPORT, csv=True, errors=(404,),
                                                     params=(FORMAT,)),
    "GET /api/v1/payroll/runs/{run_id}/stubs/{employee_id}": op(
        "PayStub", errors=(400, 404), params=(
            query("format", "json (default), html or pdf", {"enum": ["json", "html", "pdf"]}),)),
    "GET /api/v1/payroll/runs/{run_id}/nacha": op("PayStub", errors=(404, 409)),
    "POST /api/v1/payroll/jobs/nightly/run": op("PayrollJobRun", errors=(409,)),
    "GET /api/v1/payroll/jobs": op("JobRunList"),
})
OPERATIONS["GET /api/v1/payroll/runs/{run_id}/stubs/{employee_id}"]["responses"]["200"][
    "content"].update({"text/html": {"schema": STR}, "application/pdf": {"schema": STR}})
OPERATIONS["GET /api/v1/payroll/runs/{run_id}/nacha"]["responses"]["200"] = {
    "description": "The ACH file", "content": {"text/plain": {"schema": STR}}}
_PERIOD = obj(start=DATE, end=DATE, pay_date=DATE)
_LINE = obj(["current", "ytd"], name=STR, code=STR, kind=STR, current=MONEY, ytd=MONEY)
# An earning: hours x rate x multiplier for hourly pay; rate null for overtime in a week
# worked at several rates (paid on the week's regular rate), hours null for a salary.
_EARNING = obj(["code", "current", "ytd"], code=STR, hours=NULLABLE_QUANTITY,
               rate=NULLABLE_MONEY, multiplier=STR, current=MONEY, ytd=MONEY)
# A deduction: its year to date counted per order (kind and reference); balance_left, for an
# order with a balance, what is still owed after this paycheck.
_DEDUCTION = obj(["name", "current", "ytd"], name=STR, kind=STR, reference=NULLABLE_STR,
                 pre_tax=BOOL, current=MONEY, ytd=MONEY, balance_left=NULLABLE_MONEY)
SCHEMAS.update({
    "PaySchedule": obj(code=STR, frequency=STR, anchor=DATE, pay_lag_days=INT,
                       current_period={"anyOf": [_PERIOD, {"type": "null"}]}),
    "PayScheduleList": listing("PaySchedule"),
    "PayProfile": obj(
        employee_id=STR, pay_type=STR, home_store_id=STR, work_state=STR, schedule=STR,
        w4=obj(filing_status=STR, step2_checkbox=BOOL, dependents_credit=MONEY,
               other_income=MONEY, deductions=MONEY, extra_withholding=MONEY, exempt=BOOL),
        bank_account=NULLABLE_STR,
        rates={"type": "array", "items": obj(effective_from=DATE, rate=MONEY,
                                             created_by=STR)},
        deductions={"type": "array", "items": obj(kind=STR, amount=NULLABLE_MONEY,
                                                  percent=NULLABLE_STR,
                                                  annual_cap=NULLABLE_MONEY,
                                                  balance=NULLABLE_MONEY,
                                                  reference=NULLABLE_STR)},
        updated_at=INSTANT),
    "Timesheet": obj(employee_id=STR, week_start=DATE, week_end=DATE,
                     status={"enum": ["open", "closed", "approved"]}, rule_set=STR,
                     worked_minutes=INT, minutes=MINUTES,
                     exceptions={"type": "array", "items": {"type": "object"}},
                     shifts={"type": "array", "items": SHIFT}, approved_by=NULLABLE_STR,
                     approved_at=NULLABLE_INSTANT),
    "TimesheetList": obj(items={"type": "array", "items": obj(
        employee_id=STR, week_start=DATE, status=STR, rule_set=STR, worked_minutes=INT,
        minutes=MINUTES, exceptions={"type": "array", "items": {"type": "object"}},
        approved_by=NULLABLE_STR, approved_at=NULLABLE_INSTANT)}),
    "ShiftCorrection": obj(correction_id=STR, employee_id=STR, shift_key=STR, action=STR,
                           store_id=NULLABLE_STR, start_at=NULLABLE_INSTANT,
                           end_at=NULLABLE_INSTANT, break_minutes=INT, reason=STR,
                           made_by=STR, made_at=INSTANT,
                           before={"type": ["object", "null"]},
                           after={"type": ["object", "null"]}),
    "PayRun": obj(["run_id", "schedule", "kind", "period_start", "period_end", "pay_date",
                   "status", "paychecks", "gross", "net"],
                  run_id=STR, schedule=STR, kind={"enum": ["regular", "off_cycle"]},
                  period_start=DATE, period_end=DATE, pay_date=DATE,
                  status={"enum": ["draft", "approved", "posted"]},
                  corrects_run_id=NULLABLE_STR, paychecks=INT, gross=MONEY,
                  employee_taxes=MONEY, employer_taxes=MONEY, deductions=MONEY, net=MONEY,
                  created_by=STR, created_at=INSTANT, approved_by=NULLABLE_STR,
                  approved_at=NULLABLE_INSTANT, posted_by=NULLABLE_STR,
                  posted_at=NULLABLE_INSTANT,
                  journal_entries={"type": "array", "items": STR}),
    "PayRunList": listing("PayRun"),
    "PayStub": obj(["run_id", "employee_id", "gross", "net", "earnings", "taxes"],
                   run_id=STR, status=STR, pay_date=DATE, period_start=DATE, period_end=DATE,
                   employee_id=STR, name=STR, store_id=STR, deposit=NULLABLE_STR,
                   earnings={"type": "array", "items": _EARNING},
                   deductions={"type": "array", "items": _DEDUCTION},
                   taxes={"type": "array", "items": _LINE},
                   employer_taxes={"type": "array", "items": _LINE},
                   gross=obj(current=MONEY, ytd=MONEY), net=obj(current=MONEY, ytd=MONEY),
                   income_tax_method=STR),
    "PayrollJobRun": obj(["slot", "outcome"], slot=STR, outcome=STR),
    "ApprovedTimesheets": obj(week_start=DATE, approved={"type": "array", "items": STR},
                              waiting={"type": "array", "items": {"type": "object"}}),
})

ERROR_TEXT = {400: "A query parameter or the body is malformed",
              401: "No API token, or one that is unknown or revoked",
              403: "The token's role may not use this route",
              404: "No such resource", 409: "Conflicts with the current state",
              413: "Body too large", 415: "Body is not application/json",
              422: "A field is invalid (the problem names it)"}

UNSECURED = {
    "GET /healthz": "Liveness: the process answers",
    "GET /readyz": "Readiness: the database answers and is at this version's schema",
    "GET /api/v1/openapi.json": "This document",
    "GET /api/v1/docs": "This document, rendered",
    "GET /metrics": "Prometheus metrics",
}


def _path_params(template: str) -> list[dict[str, Any]]:
    out = []
    for name, pattern in re.findall(r"\{(\w+)(?::([^}]*))?\}", template):
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if pattern:
            schema = {"type": "string", "pattern": f"^{pattern}$"}
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def document(app: web.Application) -> dict[str, Any]:
    """The document for ``app``'s routes."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "OPTIONS"):
            continue
        template = resource.canonical
        plain = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", template)
        key = f"{route.method} {plain}"
        entry = paths.setdefault(plain, {})
        permission = permission_of(route.handler)
        summary = (route.handler.__doc__ or "").strip().split("\n\n")[0]
        summary = " ".join(summary.split())
        if key in UNSECURED:
            entry[route.method.lower()] = {
                "summary": UNSECURED[key], "security": [],
                "responses": {"200": {"description": "OK"}}}
            continue
        if key not in OPERATIONS or permission is None:
            continue  # sync routes (their own document: docs/sync-protocol.md)
        spec = dict(OPERATIONS[key])
        errors = sorted({401, 403, *(e for e in spec.pop("errors") if e)})
        roles = holders(permission)
        spec["responses"] = {**spec["responses"], **{
            str(status): {"description": ERROR_TEXT[status], "content": {
                "application/problem+json": {"schema": ref("Problem")}}}
            for status in errors}}
        spec["parameters"] = [*_path_params(template), *spec["parameters"]]
        spec["summary"] = summary or key
        spec["description"] = f"Roles: {', '.join(roles)} (permission `{permission.value}`)."
        spec["x-roles"] = roles
        spec["operationId"] = route.handler.__name__
        entry[route.method.lower()] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": "retail-backoffice head-office API", "version": "1",
                 "description": "See docs/head-office-api.md. Money is a decimal string in the "
                                "chain currency; errors are application/problem+json."},
        "servers": [{"url": "/"}],
        "security": [{"apiToken": []}],
        "components": {
            "securitySchemes": {"apiToken": {
                "type": "http", "scheme": "bearer",
                "description": "An API token (boa_...) from 'backoffice server init', "
                               "'backoffice server create-api-token' or POST /api/v1/api-tokens"}},
            "schemas": SCHEMAS},
        "paths": {path: methods for path, methods in sorted(paths.items()) if methods},
    }


@routes.get("/api/v1/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document(request.app))


@routes.get("/api/v1/docs")
async def openapi_page(_request: web.Request) -> web.Response:
    page_html = resources.files("server.api").joinpath("docs.html").read_text(encoding="utf-8")
    return web.Response(text=page_html, content_type="text/html")
