"""Head-office auth: every route against every role, API tokens (shown once, hashed, revocable,
never the last admin), enrollment through the API, and the audit log of every change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from config import ServerSettings
from server import create_app
from server.admin import create_api_token, init_database
from server.roles import ROLES
from server.storage import Storage
from tests.integration.helpers import assert_problem

# What each role may use, written out here independently of server/roles.py: a route added
# without a line here fails the test, and so does a grant that differs.
EVERYONE_BUT_PAYROLL = {"admin", "manager", "accountant", "auditor"}
BOOKS_READERS = frozenset({"admin", "accountant", "auditor"})
BOOKS_KEEPERS = frozenset({"admin", "accountant"})
EXPECTED: dict[str, set[str]] = {
    "GET /api/v1/stores": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/stores/{store_id}": EVERYONE_BUT_PAYROLL,
    "POST /api/v1/stores": {"admin"},
    "POST /api/v1/stores/{store_id}/rotate-token": {"admin"},
    "POST /api/v1/stores/{store_id}/revoke-token": {"admin"},
    "GET /api/v1/sales": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/sales/{sale_id}": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/reports/sales-by-store": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/reports/sales": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/reports/inventory-valuation": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/reports/low-stock": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/reports/in-transit": EVERYONE_BUT_PAYROLL,
    "POST /api/v1/transfers": {"admin", "manager"},
    "GET /api/v1/transfers": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/transfers/{transfer_id}": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/stores/{store_id}/inventory": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/stores/{store_id}/inventory/{sku}/movements": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/products": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/products/{sku}": EVERYONE_BUT_PAYROLL,
    "PUT /api/v1/products/{sku}": {"admin", "manager"},
    "POST /api/v1/products/{sku}/prices": {"admin", "manager"},
    "GET /api/v1/tax-rates": EVERYONE_BUT_PAYROLL,
    "PUT /api/v1/tax-rates/{code}": {"admin", "manager"},
    "GET /api/v1/employees": {"admin", "manager", "payroll", "auditor"},
    "GET /api/v1/employees/{employee_id}": {"admin", "manager", "payroll", "auditor"},
    "PUT /api/v1/employees/{employee_id}": {"admin", "manager", "payroll"},
    "GET /api/v1/reconciliation-items": EVERYONE_BUT_PAYROLL,
    "GET /api/v1/reconciliation-items/{item_id}": EVERYONE_BUT_PAYROLL,
    "POST /api/v1/reconciliation-items/{item_id}/resolve": {"admin", "manager", "accountant"},
    "GET /api/v1/api-tokens": {"admin"},
    "POST /api/v1/api-tokens": {"admin"},
    "DELETE /api/v1/api-tokens/{token_id}": {"admin"},
    "GET /api/v1/audit-log": {"admin", "auditor"},
    **{key: BOOKS_READERS for key in (
        "GET /api/v1/accounts", "GET /api/v1/journal-entries",
        "GET /api/v1/journal-entries/{entry_key}", "GET /api/v1/books/trial-balance",
        "GET /api/v1/books/income-statement", "GET /api/v1/books/balance-sheet",
        "GET /api/v1/books/ledger/{code}", "GET /api/v1/books/sales-tax",
        "GET /api/v1/books/cash-over-short", "GET /api/v1/books/inventory-valuation",
        "GET /api/v1/books/export", "POST /api/v1/books/verify", "GET /api/v1/books/posting",
        "GET /api/v1/fiscal-periods", "GET /api/v1/books/jobs")},
    **{key: BOOKS_KEEPERS for key in (
        "POST /api/v1/accounts", "PATCH /api/v1/accounts/{code}",
        "DELETE /api/v1/accounts/{code}", "POST /api/v1/journal-entries",
        "POST /api/v1/journal-entries/{entry_key}/reverse", "POST /api/v1/books/post-pending",
        "POST /api/v1/fiscal-periods/{period}/close", "POST /api/v1/books/jobs/nightly/run",
        "POST /api/v1/fiscal-years/{year}/close")},
    **{key: {"admin", "payroll", "auditor"} for key in (
        "GET /api/v1/payroll/schedules", "GET /api/v1/payroll/employees/{employee_id}",
        "GET /api/v1/payroll/runs", "GET /api/v1/payroll/runs/{run_id}",
        "GET /api/v1/payroll/jobs",
        "GET /api/v1/payroll/runs/{run_id}/register",
        "GET /api/v1/payroll/runs/{run_id}/stubs/{employee_id}")},
    **{key: {"admin", "payroll"} for key in (
        "PUT /api/v1/payroll/schedules/{code}", "PUT /api/v1/payroll/employees/{employee_id}",
        "POST /api/v1/payroll/employees/{employee_id}/rates",
        "PUT /api/v1/payroll/employees/{employee_id}/deductions",
        "POST /api/v1/payroll/runs", "POST /api/v1/payroll/runs/{run_id}/recompute",
        "POST /api/v1/payroll/jobs/nightly/run")},
    **{key: {"payroll"} for key in (
        "POST /api/v1/payroll/runs/{run_id}/approve", "POST /api/v1/payroll/runs/{run_id}/post",
        "GET /api/v1/payroll/runs/{run_id}/nacha")},
    **{key: {"admin", "manager", "payroll", "auditor"} for key in (
        "GET /api/v1/payroll/timesheets", "GET /api/v1/payroll/timesheets/{employee_id}/"
        "{week_start}")},
    **{key: {"admin", "manager", "payroll"} for key in (
        "POST /api/v1/payroll/corrections",
        "POST /api/v1/payroll/timesheets/{week_start}/approve-all",
        "POST /api/v1/payroll/timesheets/{employee_id}/{week_start}/approve")},
}
OPEN = {"GET /api/v1/openapi.json", "GET /api/v1/docs"}


def _routes(app: Any) -> dict[str, str]:
    """'METHOD /template' (regex parts dropped) -> a concrete path to call."""
    found = {}
    for route in app.router.routes():
        template = route.resource.canonical if route.resource else ""
        if not template.startswith("/api/v1") or route.method in ("HEAD", "OPTIONS"):
            continue
        plain = re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", template)
        concrete = re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1).endswith("id") and
                          m.group(1) in ("item_id", "token_id") else "X1", plain)
        found[f"{route.method} {plain}"] = concrete
    return found


async def _server(settings: ServerSettings, aiohttp_client: Any) -> tuple[TestClient, dict[
        str, dict[str, str]]]:
    storage = Storage(settings.database.url)
    init = await init_database(storage)
    headers = {"admin": {"Authorization": f"Bearer {init.admin_token}"}}
    for role in ROLES:
        if role != "admin":
            issued = await create_api_token(storage, f"{role} user", role)
            headers[role] = {"Authorization": f"Bearer {issued.token}"}
    await storage.dispose()
    return await aiohttp_client(create_app(settings)), headers


async def test_every_route_against_every_role(server_settings: ServerSettings,
                                              aiohttp_client: Any) -> None:
    client, headers = await _server(server_settings, aiohttp_client)
    routes = _routes(client.server.app)
    assert set(routes) - OPEN == set(EXPECTED), "a route without an expected grant (or gone)"
    for route, path in routes.items():
        if route in OPEN:
            continue
        method = route.split()[0]
        # Without a token: 401 on every route.
        resp = await client.request(method, path, json={})
        await assert_problem(resp, 401, "API token")
        for role in ROLES:
            # A body that is valid JSON but (mostly) invalid content: the role check comes
            # first, so a refused role sees 403 whatever the body; an allowed one never does.
            resp = await client.request(method, path, headers=headers[role], json={})
            if role in EXPECTED[route]:
                assert resp.status not in (401, 403), (route, role, await resp.text())
                assert resp.status < 500, (route, role, await resp.text())
            else:
                problem = await assert_problem(resp, 403, role)
                assert "needs" in problem["detail"], problem


async def test_tokens_are_shown_once_hashed_and_revocable(server_settings: ServerSettings,
                                                          aiohttp_client: Any) -> None:
    client, headers = await _server(server_settings, aiohttp_client)
    admin = headers["admin"]
    resp = await client.post("/api/v1/api-tokens", headers=admin,
                             json={"name": "Jane (finance)", "role": "accountant"})
    assert resp.status == 201, await resp.text()
    issued = await resp.json()
    assert issued["token"].startswith("boa_") and issued["role"] == "accountant"
    jane = {"Authorization": f"Bearer {issued['token']}"}
    assert (await client.get("/api/v1/sales", headers=jane)).status == 200
    listed = await (await client.get("/api/v1/api-tokens", headers=admin)).json()
    assert issued["token"] not in str(listed)  # never shown again, not even a digest
    assert all(set(item) == {"id", "name", "role", "created_at", "revoked_at"}
               for item in listed["items"])
    # Bad requests change nothing.
    for body, field in (({"name": "x", "role": "owner"}, "role"),
                        ({"name": " ", "role": "auditor"}, "name")):
        problem = await assert_problem(await client.post("/api/v1/api-tokens", headers=admin,
                                                         json=body), 422)
        assert problem["field"] == field
    assert len((await (await client.get("/api/v1/api-tokens", headers=admin)).json())[
        "items"]) == len(listed["items"])
    # Revoked: refused at once; revoking again is harmless; an unknown id is 404.
    resp = await client.delete(f"/api/v1/api-tokens/{issued['id']}", headers=admin)
    assert resp.status == 200 and (await resp.json())["revoked_at"]
    await assert_problem(await client.get("/api/v1/sales", headers=jane), 401, "revoked")
    assert (await client.delete(f"/api/v1/api-tokens/{issued['id']}", headers=admin)).status \
        == 200
    await assert_problem(await client.delete("/api/v1/api-tokens/9999", headers=admin), 404)
    # The last working admin token cannot be revoked: head office never locks itself out.
    admin_id = next(t["id"] for t in listed["items"] if t["role"] == "admin")
    await assert_problem(await client.delete(f"/api/v1/api-tokens/{admin_id}",
                                             headers=admin), 409, "last working admin")
    assert (await client.get("/api/v1/stores", headers=admin)).status == 200


async def test_enrolling_through_the_api_and_the_audit_log(server_settings: ServerSettings,
                                                           aiohttp_client: Any) -> None:
    client, headers = await _server(server_settings, aiohttp_client)
    admin, manager = headers["admin"], headers["manager"]
    resp = await client.post("/api/v1/stores", headers=admin, json={
        "store_id": "S009", "name": "Harbour", "timezone": "Europe/Lisbon"})
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["sync_token"].startswith("bos_")
    await assert_problem(await client.post("/api/v1/stores", headers=admin, json={
        "store_id": "S009", "name": "Again", "timezone": "UTC"}), 409, "already enrolled")
    for body, field in (({"store_id": "bad id!", "name": "x", "timezone": "UTC"}, "store_id"),
                        ({"store_id": "S010", "name": "x", "timezone": "Mars/Base"},
                         "timezone"),
                        ({"store_id": "S010", "timezone": "UTC"}, "name")):
        problem = await assert_problem(await client.post("/api/v1/stores", headers=admin,
                                                         json=body), 422)
        assert problem["field"] == field
    assert [s["store_id"] for s in (await (await client.get(
        "/api/v1/stores", headers=admin)).json())["items"]] == ["S009"]
    await assert_problem(await client.post("/api/v1/stores/NOPE/rotate-token", headers=admin),
                         404)

    # A manager changes a product twice and an employee's PIN; the audit log has who, what,
    # when, before and after - and never the PIN.
    for price in ("1.29", "1.39"):
        resp = await client.put("/api/v1/products/1001", headers=manager, json={
            "name": "Whole milk 1 l", "price": price, "tax_rate": "7"})
        assert resp.status == 200, await resp.text()
    for pin in ("4321", "4321", "9999"):
        resp = await client.put("/api/v1/employees/E7", headers=manager, json={
            "name": "Ana", "role": "cashier", "pin": pin})
        assert resp.status == 200, await resp.text()
    resp = await client.get("/api/v1/audit-log?target=product:1001", headers=headers[
        "auditor"])
    entries = (await resp.json())["items"]
    assert [(e["action"], e["actor"], e["actor_role"]) for e in entries] == [
        ("product.put", "manager user", "manager")] * 2
    assert entries[0]["before"] is None and entries[0]["after"]["price"] == 129
    assert (entries[1]["before"]["price"], entries[1]["after"]["price"]) == (129, 139)
    employee = (await (await client.get("/api/v1/audit-log?target=employee:E7",
                                        headers=admin)).json())["items"]
    assert [e["after"]["pin_changed"] for e in employee] == [True, False, True]
    # (before/after only: a timestamp's microseconds may well read ...4321)
    changes = str([(e["before"], e["after"]) for e in employee])
    assert "4321" not in changes and "pin_hash" not in changes
    enrolled = (await (await client.get("/api/v1/audit-log?action=store.enroll",
                                        headers=admin)).json())["items"]
    assert [(e["target"], e["actor"]) for e in enrolled] == [("store:S009", "first admin")]
    assert "bos_" not in str(enrolled)
    # A refused change leaves no audit entry.
    await assert_problem(await client.put("/api/v1/products/1001", headers=headers["auditor"],
                                          json={"name": "x", "price": "1", "tax_rate": "7"}),
                         403)
    await assert_problem(await client.put("/api/v1/products/1001", headers=manager,
                                          json={"name": "x", "price": "-1", "tax_rate": "7"}),
                         422)
    after = (await (await client.get("/api/v1/audit-log?target=product:1001",
                                     headers=admin)).json())["items"]
    assert len(after) == 2
    product = await (await client.get("/api/v1/products/1001", headers=manager)).json()
    assert product["price"] == "1.39"


@pytest.mark.parametrize("query", ["limit=0", "cursor=zzz"])
async def test_bad_audit_queries_are_400(server_settings: ServerSettings, aiohttp_client: Any,
                                         query: str) -> None:
    client, headers = await _server(server_settings, aiohttp_client)
    await assert_problem(await client.get(f"/api/v1/audit-log?{query}",
                                          headers=headers["auditor"]), 400)
