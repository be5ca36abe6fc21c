"""Payroll end to end (SQLite and PostgreSQL): punches rung at a store agent while head
office is down → sync → timesheets (an unpaired punch corrected by a manager, audited) →
approved → a pay run drafted, approved by the payroll role only, posted once → stub (HTML,
PDF), register (CSV), NACHA file (validated, read back by an independent parser) and a
balanced payroll journal — and what the API refuses, changing nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema_rs
import pytest
import sqlalchemy as sa
from ach.parser import Parser  # type: ignore[import-untyped]

from server import create_app as create_server
from server.admin import create_api_token, enroll_store, init_database
from server.payroll.nacha import validate_ach
from server.storage import Storage
from server.storage.tables import journal_lines, time_punches
from store_agent.app import create_app as create_agent
from store_agent.ledger import Ledger
from store_agent.sync_client import SyncError, push_pending
from tests.integration.agent_helpers import call, new_id, prepared_settings
from tests.integration.helpers import Fact, assert_problem, batch, chained, push

LA = ZoneInfo("America/Los_Angeles")
MONDAY = datetime(2026, 11, 16, tzinfo=LA)


class HandClock:
    def __init__(self, start: datetime) -> None:
        self.instant = start

    def now(self) -> datetime:
        return self.instant


async def _head_office(settings: Any) -> tuple[dict[str, dict[str, str]], str]:
    storage = Storage(settings.database.url)
    try:
        init = await init_database(storage)
        store_token = await enroll_store(storage, "S001", "Main Street", "America/Los_Angeles")
        tokens = {"admin": init.admin_token}
        for role in ("payroll", "manager", "auditor"):
            tokens[role] = (await create_api_token(storage, f"{role} user", role)).token
    finally:
        await storage.dispose()
    return {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}, \
        store_token


async def _ring_a_week_offline(agent_settings_factory: Any, store_token: str) -> Any:
    """E100 works Mon-Fri 9:00-18:30 with a 30-minute break (9 h a day); E101 clocks in on
    Monday and never out (a forgotten punch). Head office is unreachable all week."""
    settings = prepared_settings(agent_settings_factory(
        head_office_url="http://127.0.0.1:9", sync_token=store_token))
    clock = HandClock(MONDAY.astimezone(UTC))
    from aiohttp.test_utils import TestClient, TestServer

    agent = TestClient(TestServer(create_agent(settings, clock)))
    await agent.start_server()
    try:
        async def punch(employee: str, action: str, at: datetime) -> None:
            clock.instant = at.astimezone(UTC)
            status, body = await call(agent, "POST", "/api/v1/punches",
                                      {"punch_id": new_id(), "employee": employee,
                                       "action": action})
            assert status == 201, body

        for day in range(5):
            start = MONDAY + timedelta(days=day, hours=9)
            await punch("E100", "in", start)
            await punch("E100", "break_start", start + timedelta(hours=3))
            await punch("E100", "break_end", start + timedelta(hours=3, minutes=30))
            await punch("E100", "out", start + timedelta(hours=9, minutes=30))
        await punch("E101", "in", MONDAY + timedelta(hours=10))
    finally:
        await agent.close()
    ledger = Ledger(settings.ledger.path, "S001")
    await ledger.open()
    try:  # head office is down: nothing goes, nothing is lost
        with pytest.raises(SyncError):
            await push_pending(ledger, settings, clock)
    finally:
        await ledger.close()
    return clock


async def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _salaried_weekly(server: Any, headers: dict[str, dict[str, str]], employee: str,
                           name: str, yearly: str) -> None:
    """A weekly schedule (weeks from Monday 2026-11-16, paid 3 days on) and a salaried
    manager in Texas on it, married filing jointly, paid ``yearly`` since January."""
    payroll = headers["payroll"]
    await _ok(await server.put("/api/v1/payroll/schedules/WK", headers=payroll, json={
        "frequency": "weekly", "anchor": "2026-11-16", "pay_lag_days": 3}))
    await _ok(await server.put(f"/api/v1/employees/{employee}", headers=headers["admin"],
                               json={"name": name, "role": "manager", "pin": "7777"}))
    await _ok(await server.put(f"/api/v1/payroll/employees/{employee}", headers=payroll,
                               json={"pay_type": "salaried", "home_store_id": "S001",
                                     "work_state": "TX", "schedule": "WK",
                                     "w4": {"filing_status": "married_jointly"}}))
    await _ok(await server.post(f"/api/v1/payroll/employees/{employee}/rates",
                                headers=payroll,
                                json={"effective_from": "2026-01-01", "rate": yearly}), 201)


async def test_punches_to_paycheck(server_settings: Any, agent_settings_factory: Any,
                                   aiohttp_client: Any) -> None:
    headers, store_token = await _head_office(server_settings)
    clock = await _ring_a_week_offline(agent_settings_factory, store_token)
    server = await aiohttp_client(create_server(server_settings))
    settings = agent_settings_factory(head_office_url=str(server.make_url("")).rstrip("/"),
                                      sync_token=store_token)
    ledger = Ledger(settings.ledger.path, "S001")
    await ledger.open()
    try:
        await push_pending(ledger, settings, clock)
    finally:
        await ledger.close()
    storage = Storage(server_settings.database.url)
    async with storage.read() as conn:
        punches = (await conn.execute(sa.select(sa.func.count()).select_from(time_punches))
                   ).scalar_one()
    assert punches == 21  # 20 for E100, 1 for E101: all synced

    admin, payroll, manager = headers["admin"], headers["payroll"], headers["manager"]
    await _ok(await server.put("/api/v1/payroll/schedules/BW", headers=payroll, json={
        "frequency": "biweekly", "anchor": "2026-11-09", "pay_lag_days": 5}))
    for employee, name in (("E100", "Ann Núñez"), ("E101", "Bob")):
        await _ok(await server.put(f"/api/v1/employees/{employee}", headers=admin, json={
            "name": name, "role": "cashier", "pin": "1111"}), 200)
    # A W-4 that cannot be and a negative rate change nothing.
    profile = {"pay_type": "hourly", "home_store_id": "S001", "work_state": "CA",
               "schedule": "BW", "w4": {"filing_status": "single"},
               "bank_account": {"routing": "011000015", "account": "123456789",
                                "account_type": "checking"}}
    bad = await server.put("/api/v1/payroll/employees/E100", headers=payroll, json={
        **profile, "w4": {"filing_status": "single", "dependents_credit": "-500.00"}})
    await assert_problem(bad, 422, "dependents_credit")
    assert (await server.get("/api/v1/payroll/employees/E100", headers=payroll)).status == 404
    shown = await _ok(await server.put("/api/v1/payroll/employees/E100", headers=payroll,
                                       json=profile))
    assert shown["bank_account"] == "checking ****6789 at 011000015"
    async with storage.read() as conn:
        sealed = (await conn.execute(sa.text(
            "SELECT bank_sealed FROM employee_pay WHERE employee_id = 'E100'"))).scalar_one()
    assert "123456789" not in sealed
    await assert_problem(await server.post("/api/v1/payroll/employees/E100/rates",
                                           headers=payroll,
                                           json={"effective_from": "2026-01-01",
                                                 "rate": "-20.00"}), 422, "rate")
    await _ok(await server.post("/api/v1/payroll/employees/E100/rates", headers=payroll,
                                json={"effective_from": "2026-01-01", "rate": "20.00"}), 201)
    nan = await server.put("/api/v1/payroll/employees/E100/deductions", headers=payroll,
                           json={"deductions": [{"kind": "401k", "percent": "NaN"}]})
    await assert_problem(nan, 422, "percent")
    await _ok(await server.put("/api/v1/payroll/employees/E100/deductions", headers=payroll,
                               json={"deductions": [{"kind": "401k", "percent": "5"},
                                                    {"kind": "garnishment",
                                                     "amount": "25.00"}]}))
    await _ok(await server.put("/api/v1/payroll/employees/E101", headers=payroll, json={
        **profile, "bank_account": None}))
    await _ok(await server.post("/api/v1/payroll/employees/E101/rates", headers=payroll,
                                json={"effective_from": "2026-01-01", "rate": "18.00"}), 201)

    # E100's week: 45 h, California daily overtime: 40 straight, 5 at 1.5.
    week = await _ok(await server.get("/api/v1/payroll/timesheets/E100/2026-11-16",
                                      headers=manager))
    assert week["minutes"]["by_multiplier"] == {"1": 2400, "1.5": 300}
    assert week["exceptions"] == [] and week["status"] == "open"
    # E101 forgot to clock out: no pay run until a manager corrects and approves it.
    bob = await _ok(await server.get("/api/v1/payroll/timesheets/E101/2026-11-16",
                                     headers=manager))
    [problem] = bob["exceptions"]
    assert problem["problems"] == ["missing_out"]
    await assert_problem(await server.post(
        "/api/v1/payroll/timesheets/E101/2026-11-16/approve", headers=manager), 409,
        "need a correction")
    # Approving the store's week in one go: E100 is approved, E101 waits for a correction.
    both = await _ok(await server.post(
        "/api/v1/payroll/timesheets/2026-11-16/approve-all?store_id=S001", headers=manager))
    assert both["approved"] == ["E100"]
    assert [w["employee_id"] for w in both["waiting"]] == ["E101"]
    refused = await server.post("/api/v1/payroll/runs", headers=payroll, json={
        "schedule": "BW", "period_start": "2026-11-09"})
    body = await assert_problem(refused, 409, "not approved")
    assert body["unapproved"] == [{"employee_id": "E101", "week_start": "2026-11-16"}]
    fixed = await _ok(await server.post("/api/v1/payroll/corrections", headers=manager, json={
        "employee_id": "E101", "shift_key": problem["shift_key"], "action": "set",
        "start": (MONDAY + timedelta(hours=10)).isoformat(),
        "end": (MONDAY + timedelta(hours=16)).isoformat(), "break_minutes": 0,
        "reason": "forgot to clock out; left at 16:00 per the schedule"}), 201)
    assert fixed["before"]["problems"] == ["missing_out"] and fixed["made_by"] == "manager user"
    await _ok(await server.post("/api/v1/payroll/timesheets/E101/2026-11-16/approve",
                                headers=manager))
    locked = await server.post("/api/v1/payroll/corrections", headers=manager, json={
        "employee_id": "E101", "shift_key": problem["shift_key"], "action": "void",
        "reason": "again"})
    await assert_problem(locked, 409, "locked")
    moved = await server.post("/api/v1/payroll/corrections", headers=manager, json={
        "employee_id": "E101", "shift_key": problem["shift_key"], "action": "set",
        "store_id": "S001", "start": (MONDAY + timedelta(days=20, hours=10)).isoformat(),
        "end": (MONDAY + timedelta(days=20, hours=12)).isoformat(), "reason": "moved"})
    await assert_problem(moved, 409, "locked")  # found by its key, however far it moves
    async with storage.read() as conn:  # the punch itself was never edited
        assert (await conn.execute(sa.select(sa.func.count()).select_from(time_punches)
                                   .where(time_punches.c.employee_id == "E101"))
                ).scalar_one() == 1

    run = await _ok(await server.post("/api/v1/payroll/runs", headers=payroll, json={
        "schedule": "BW", "period_start": "2026-11-09"}), 201)
    # 11-09..11-22 + 5 days = 11-27, the Friday after Thanksgiving: a business day
    assert (run["status"], run["pay_date"], run["paychecks"]) == ("draft", "2026-11-27", 2)
    # E100: 40 h x 20 + 5 h x 30 = 950; E101: 6 h x 18 = 108
    assert run["gross"] == "1058.00"
    run_id = run["run_id"]
    again = await server.post("/api/v1/payroll/runs", headers=payroll, json={
        "schedule": "BW", "period_start": "2026-11-09"})
    await assert_problem(again, 409, "already has run")
    future = await server.post("/api/v1/payroll/runs", headers=payroll, json={
        "schedule": "BW", "period_start": "2099-01-05"})
    assert future.status == 409  # not ended (or no holiday calendar for 2099 yet)
    await assert_problem(await server.post(f"/api/v1/payroll/runs/{run_id}/approve",
                                           headers=admin), 403, "admin")
    await assert_problem(await server.post(f"/api/v1/payroll/runs/{run_id}/post",
                                           headers=payroll), 409, "only an approved run")
    await _ok(await server.post(f"/api/v1/payroll/runs/{run_id}/approve", headers=payroll))
    await assert_problem(await server.post(f"/api/v1/payroll/runs/{run_id}/approve",
                                           headers=payroll), 409, "already approved")
    posted = await _ok(await server.post(f"/api/v1/payroll/runs/{run_id}/post",
                                         headers=payroll))
    assert posted["status"] == "posted"
    assert posted["journal_entries"] == [f"payroll:{run_id}:S001"]
    await assert_problem(await server.post(f"/api/v1/payroll/runs/{run_id}/approve",
                                           headers=payroll), 409, "already posted")
    await assert_problem(await server.post(f"/api/v1/payroll/runs/{run_id}/post",
                                           headers=payroll), 409, "posted")

    # The stub: current and year to date, by hand for E100.
    stub = await _ok(await server.get(f"/api/v1/payroll/runs/{run_id}/stubs/E100",
                                      headers=headers["auditor"]))
    assert stub["gross"] == {"current": "950.00", "ytd": "950.00"}
    earnings = {e["code"]: e["current"] for e in stub["earnings"]}
    assert earnings == {"regular": "800.00", "overtime": "150.00"}
    taxes = {t["name"]: t["current"] for t in stub["taxes"]}
    # income tax wages 950 - 47.50 (401k) = 902.50; x 26 = 23,465 - 8,600 = 14,865:
    # 10% x (14,865 - 7,500) = 736.50 / 26 = 28.33; FICA on 950 (the 401k is not excluded)
    assert taxes == {"Federal income tax": "28.33", "Social Security": "58.90",
                     "Medicare": "13.78"}
    assert stub["net"]["current"] == "776.49"  # 950 - 47.50 - 28.33 - 58.90 - 13.78 - 25.00
    html = await server.get(f"/api/v1/payroll/runs/{run_id}/stubs/E100?format=html",
                            headers=payroll)
    assert html.status == 200 and "Ann Núñez" in await html.text()
    pdf = await server.get(f"/api/v1/payroll/runs/{run_id}/stubs/E100?format=pdf",
                           headers=payroll)
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")

    register = await server.get(f"/api/v1/payroll/runs/{run_id}/register?format=csv",
                                headers=payroll)
    rows = list(csv.DictReader(io.StringIO(await register.text())))
    assert {r["employee_id"]: r["net"] for r in rows}["E100"] == "776.49"

    ach = await server.get(f"/api/v1/payroll/runs/{run_id}/nacha", headers=payroll)
    text = await ach.text()
    assert ach.headers["X-Paper-Checks"] == "E101"  # no bank account on file
    summary = validate_ach(text)
    assert (summary.entries, summary.total_credit_cents) == (1, 776_49)
    [entry] = Parser(text).as_dict()["batches"][0]["entries"]
    assert entry["entry_detail"]["dfi_acnt_num"].strip() == "123456789"
    assert int(entry["entry_detail"]["amount"]) == 776_49

    async with storage.read() as conn:
        lines = list(await conn.execute(sa.select(journal_lines).where(
            journal_lines.c.entry_key == f"payroll:{run_id}:S001")))
    assert sum(int(r.amount_minor) for r in lines) == 0
    by = {(r.account_code, r.sub): int(r.amount_minor) for r in lines}
    assert by[("6100", "")] == 1058_00  # wages by store
    assert by[("2300", "")] == -int(run["net"].replace(".", ""))
    await storage.dispose()


async def test_the_nightly_job_drafts_once_and_an_off_cycle_run_corrects(
        server_settings: Any, aiohttp_client: Any) -> None:
    """A salaried employee: payroll's nightly job closes the weeks and drafts the ended
    period's run — once, however many processes fire for the slot; the run is approved and
    posted; an off-cycle run then pays a missed bonus with the year to date behind it."""
    from datetime import date

    from server import keys
    from server.payroll.nightly import run_payroll_nightly

    headers, _ = await _head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    payroll = headers["payroll"]
    await _salaried_weekly(server, headers, "E7", "Cleo", "78000.00")
    storage, ctx = server.server.app[keys.STORAGE], server.server.app[keys.PAYROLL]
    first = await run_payroll_nightly(storage, ctx, "2026-11-25", today=date(2026, 11, 25))
    again = await run_payroll_nightly(storage, ctx, "2026-11-25", today=date(2026, 11, 25))
    assert first is not None and first["outcome"] == "ok" and again is None
    [run_id] = first["drafted"]
    run = await _ok(await server.get(f"/api/v1/payroll/runs/{run_id}", headers=payroll))
    assert (run["period_start"], run["period_end"], run["pay_date"]) == (
        "2026-11-16", "2026-11-22", "2026-11-25")
    assert run["gross"] == "1500.00"  # 78,000 / 52
    jobs = await _ok(await server.get("/api/v1/payroll/jobs", headers=payroll))
    [job] = jobs["items"]
    assert (job["outcome"], job["detail"]["drafted"]) == ("ok", [run_id])
    await _ok(await server.post(f"/api/v1/payroll/runs/{run_id}/approve", headers=payroll))
    await _ok(await server.post(f"/api/v1/payroll/runs/{run_id}/post", headers=payroll))

    bad = await server.post("/api/v1/payroll/runs", headers=payroll, json={
        "kind": "off_cycle", "schedule": "WK", "pay_date": "2026-11-27",
        "corrects_run_id": run_id, "earnings": [{"employee_id": "E7", "amount": "-5.00"}]})
    await assert_problem(bad, 422, "earnings[0].amount")
    bonus = await _ok(await server.post("/api/v1/payroll/runs", headers=payroll, json={
        "kind": "off_cycle", "schedule": "WK", "pay_date": "2026-11-27",
        "corrects_run_id": run_id,
        "earnings": [{"employee_id": "E7", "code": "bonus", "amount": "250.00"}]}), 201)
    assert (bonus["kind"], bonus["gross"]) == ("off_cycle", "250.00")
    stub = await _ok(await server.get(f"/api/v1/payroll/runs/{bonus['run_id']}/stubs/E7",
                                      headers=payroll))
    assert stub["gross"] == {"current": "250.00", "ytd": "1750.00"}
    # Supplemental wages, and the regular run withheld income tax: the flat 22 %.
    taxes = {t["name"]: t["current"] for t in stub["taxes"]}
    assert (taxes["Federal income tax"], stub["income_tax_method"]) == (
        "55.00", "supplemental: optional flat rate")
    html = await server.get(f"/api/v1/payroll/runs/{bonus['run_id']}/stubs/E7?format=html",
                            headers=payroll)
    assert "Federal income tax (supplemental: optional flat rate)" in await html.text()


def _shift(employee: str, start: datetime, hours: int) -> list[Fact]:
    """An ``in`` and an ``out`` punch ``hours`` apart, as a store records them."""
    def punch(action: str, at: datetime, before: str, after: str) -> Fact:
        return Fact("time.punched", {"punch_id": new_id(), "employee_id": employee,
                                     "action": action, "state_before": before,
                                     "state_after": after},
                    business_date=start.date().isoformat(),
                    recorded_at=at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z"))
    return [punch("in", start, "off", "working"),
            punch("out", start + timedelta(hours=hours), "working", "off")]


async def test_overtime_in_a_week_with_a_raise_is_paid_on_the_weeks_regular_rate(
        server_settings: Any, aiohttp_client: Any) -> None:
    """FLSA regular rate (29 CFR 778.115) through a real run: E200 (California) works 10 h
    on Monday at 20.00 and 8 h a day Tuesday to Friday at 22.00 (a raise from Tuesday).
    Monday's 2 h of daily overtime earn 2 x 20.00 + 2 x 0.5 x 904.00 / 42 = 61.52, not
    1.5 x 20.00 x 2 = 60.00."""
    headers, store_token = await _head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    facts = _shift("E200", MONDAY + timedelta(hours=8), 10)
    for day in range(1, 5):
        facts += _shift("E200", MONDAY + timedelta(days=day, hours=9), 8)
    resp = await push(server, batch("S001", chained("S001", facts)),
                      {"Authorization": f"Bearer {store_token}"})
    assert resp.status == 200, await resp.text()
    admin, payroll, manager = headers["admin"], headers["payroll"], headers["manager"]
    await _ok(await server.put("/api/v1/payroll/schedules/BW", headers=payroll, json={
        "frequency": "biweekly", "anchor": "2026-11-09", "pay_lag_days": 5}))
    await _ok(await server.put("/api/v1/employees/E200", headers=admin, json={
        "name": "Cy", "role": "cashier", "pin": "2222"}))
    await _ok(await server.put("/api/v1/payroll/employees/E200", headers=payroll, json={
        "pay_type": "hourly", "home_store_id": "S001", "work_state": "CA", "schedule": "BW",
        "w4": {"filing_status": "single"}, "bank_account": None}))
    for since, rate in (("2026-01-01", "20.00"), ("2026-11-17", "22.00")):
        await _ok(await server.post("/api/v1/payroll/employees/E200/rates", headers=payroll,
                                    json={"effective_from": since, "rate": rate}), 201)
    week = await _ok(await server.get("/api/v1/payroll/timesheets/E200/2026-11-16",
                                      headers=manager))
    assert week["minutes"]["by_multiplier"] == {"1": 2400, "1.5": 120}
    await _ok(await server.post("/api/v1/payroll/timesheets/E200/2026-11-16/approve",
                                headers=manager))
    run = await _ok(await server.post("/api/v1/payroll/runs", headers=payroll, json={
        "schedule": "BW", "period_start": "2026-11-09"}), 201)
    assert run["gross"] == "925.52"  # 8 x 20.00 + 32 x 22.00 + 61.52
    stub = await _ok(await server.get(f"/api/v1/payroll/runs/{run['run_id']}/stubs/E200",
                                      headers=payroll))
    document = await _ok(await server.get("/api/v1/openapi.json"))
    jsonschema_rs.validate(document["components"]["schemas"]["PayStub"], stub)  # as documented
    assert [(e["code"], e["hours"], e["rate"], e["current"]) for e in stub["earnings"]] == [
        ("regular", "8.00", "20.00", "160.00"), ("regular", "32.00", "22.00", "704.00"),
        ("overtime", "2.00", None, "61.52")]
    html = await server.get(f"/api/v1/payroll/runs/{run['run_id']}/stubs/E200?format=html",
                            headers=payroll)
    assert "overtime 2.00 h x 1.5, on the week&#x27;s regular rate" in await html.text()


async def test_the_supplemental_history_reads_this_year_and_last_by_pay_date(
        central_url: str) -> None:
    """What an off-cycle run's withholding depends on, read from real paychecks: income tax
    withheld from regular pay last year counts; the aggregate adds the latest regular
    paycheck up to the pay date and the off-cycle pay after it; every other off-cycle
    paycheck of the year counts towards the $1,000,000; drafts and later regular pay do
    not."""
    from datetime import date

    from server.payroll.runs import supplemental_histories
    from server.payroll.supplemental import SupplementalHistory
    from server.storage.tables import pay_runs, paychecks

    storage = Storage(central_url)
    await init_database(storage)
    paid = [  # run, kind, status, pay date, employee, income-tax wages, income tax
        ("R0", "regular", "posted", date(2025, 12, 19), "E1", 1_000_00, 50_00),
        ("R1", "regular", "posted", date(2026, 11, 6), "E1", 1_500_00, 0),
        ("R2", "regular", "approved", date(2026, 11, 20), "E1", 1_600_00, 0),
        ("R3", "off_cycle", "posted", date(2026, 11, 21), "E1", 300_00, 66_00),
        ("R4", "off_cycle", "posted", date(2026, 11, 10), "E1", 200_00, 44_00),
        ("R5", "off_cycle", "posted", date(2026, 12, 15), "E1", 700_00, 154_00),
        ("R6", "regular", "posted", date(2026, 12, 4), "E1", 9_999_00, 999_00),
        ("R7", "off_cycle", "draft", date(2026, 11, 22), "E1", 5_000_00, 0),
        ("R8", "regular", "posted", date(2024, 12, 20), "E2", 1_000_00, 50_00),
    ]
    try:
        async with storage.write() as conn:
            for run, kind, status, day, employee, wages, tax in paid:
                await conn.execute(pay_runs.insert().values(
                    run_id=run, schedule_code="BW", period_start=day, period_end=day,
                    pay_date=day, kind=kind, status=status, totals={}, created_by="test",
                    created_at=datetime.now(UTC)))
                await conn.execute(paychecks.insert().values(
                    run_id=run, employee_id=employee, store_id="S001", pay_date=day,
                    gross_minor=wages, income_tax_wages_minor=wages, ss_wages_minor=wages,
                    medicare_wages_minor=wages, futa_wages_minor=0, income_tax_minor=tax,
                    ss_employee_minor=0, medicare_employee_minor=0, ss_employer_minor=0,
                    medicare_employer_minor=0, futa_employer_minor=0, deductions=[],
                    net_minor=wages - tax, detail={}))
        async with storage.read() as conn:
            history = await supplemental_histories(conn, ["E1", "E2", "E3"],
                                                   date(2026, 11, 27), None)
            recomputed = await supplemental_histories(conn, ["E1"], date(2026, 11, 21), "R3")
    finally:
        await storage.dispose()
    assert history == {
        "E1": SupplementalHistory(True, 300_00 + 200_00 + 700_00, 1_600_00 + 300_00, 66_00),
        "E2": SupplementalHistory(False, 0, 0, 0),  # withheld two years ago: too old
        "E3": SupplementalHistory(False, 0, 0, 0)}
    # R3 itself, recomputed at its approval: not its own history
    assert recomputed["E1"] == SupplementalHistory(True, 200_00 + 700_00, 1_600_00, 0)


async def test_two_garnishment_orders_keep_their_own_caps_across_runs(
        server_settings: Any, aiohttp_client: Any) -> None:
    """Two court orders of the same kind, told apart by their reference: each stops at its
    own cap over the year's runs, and the stub shows each with its own year to date. Two
    capped deductions of one kind without distinct references are refused."""
    headers, _ = await _head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    payroll = headers["payroll"]
    await _salaried_weekly(server, headers, "E9", "Dee", "52000.00")
    same = [{"kind": "garnishment", "amount": "100.00", "annual_cap": "150.00"},
            {"kind": "garnishment", "amount": "50.00", "annual_cap": "1000.00"}]
    refused = await server.put("/api/v1/payroll/employees/E9/deductions", headers=payroll,
                               json={"deductions": same})
    await assert_problem(refused, 422, "deductions[1].reference", "own")
    profile = await _ok(await server.put(
        "/api/v1/payroll/employees/E9/deductions", headers=payroll, json={"deductions": [
            {**same[0], "reference": "case B"}, {**same[1], "reference": "case A"}]}))
    assert [d["reference"] for d in profile["deductions"]] == ["case B", "case A"]
    stubs = []
    for week in ("2026-11-02", "2026-11-09"):  # two ended weeks
        run = await _ok(await server.post("/api/v1/payroll/runs", headers=payroll, json={
            "schedule": "WK", "period_start": week}), 201)
        await _ok(await server.post(f"/api/v1/payroll/runs/{run['run_id']}/approve",
                                    headers=payroll))
        stubs.append(await _ok(await server.get(
            f"/api/v1/payroll/runs/{run['run_id']}/stubs/E9", headers=payroll)))
    lines = [[(d["name"], d["current"], d["ytd"]) for d in stub["deductions"]]
             for stub in stubs]
    assert lines == [
        [("Wage garnishment (case B)", "100.00", "100.00"),
         ("Wage garnishment (case A)", "50.00", "50.00")],
        [("Wage garnishment (case B)", "50.00", "150.00"),  # its cap reached
         ("Wage garnishment (case A)", "50.00", "100.00")]]


async def test_a_balance_is_paid_off_across_years_and_then_stops(
        server_settings: Any, aiohttp_client: Any) -> None:
    """A 400.00 debt, 250.00 of it taken by a paycheck last year: this year's runs take 100.00
    and then the last 50.00 — the balance counts every year, the annual cap (1,000.00) only
    this one — and the stub says what is left to pay. A balance needs its order's reference."""
    from datetime import date

    from server.storage.tables import pay_runs, paychecks

    headers, _ = await _head_office(server_settings)
    server = await aiohttp_client(create_server(server_settings))
    payroll = headers["payroll"]
    await _salaried_weekly(server, headers, "E9", "Dee", "52000.00")
    debt = {"kind": "garnishment", "amount": "100.00", "annual_cap": "1000.00",
            "balance": "400.00"}
    refused = await server.put("/api/v1/payroll/employees/E9/deductions", headers=payroll,
                               json={"deductions": [debt]})
    await assert_problem(refused, 422, "deductions[0].reference", "order")
    refused = await server.put("/api/v1/payroll/employees/E9/deductions", headers=payroll,
                               json={"deductions": [{**debt, "reference": "case 7",
                                                     "balance": "4.001"}]})
    await assert_problem(refused, 422, "deductions[0].balance")
    profile = await _ok(await server.put(
        "/api/v1/payroll/employees/E9/deductions", headers=payroll,
        json={"deductions": [{**debt, "reference": "case 7"}]}))
    assert profile["deductions"][0]["balance"] == "400.00"
    storage = Storage(server_settings.database.url)
    try:  # last December's paycheck took 250.00 for case 7 (and 80.00 for another order)
        async with storage.write() as conn:
            day = date(2025, 12, 19)
            await conn.execute(pay_runs.insert().values(
                run_id="R2025", schedule_code="WK", period_start=day, period_end=day,
                pay_date=day, kind="regular", status="posted", totals={}, created_by="test",
                created_at=datetime.now(UTC)))
            await conn.execute(paychecks.insert().values(
                run_id="R2025", employee_id="E9", store_id="S001", pay_date=day,
                gross_minor=1_000_00, income_tax_wages_minor=1_000_00,
                ss_wages_minor=1_000_00, medicare_wages_minor=1_000_00, futa_wages_minor=0,
                income_tax_minor=0, ss_employee_minor=0, medicare_employee_minor=0,
                ss_employer_minor=0, medicare_employer_minor=0, futa_employer_minor=0,
                deductions=[{"kind": "garnishment", "name": "Wage garnishment",
                             "pre_tax": False, "amount_minor": 250_00, "shortfall_minor": 0,
                             "reference": "case 7"},
                            {"kind": "garnishment", "name": "Wage garnishment",
                             "pre_tax": False, "amount_minor": 80_00, "shortfall_minor": 0,
                             "reference": "case 3"}],
                net_minor=670_00, detail={}))
    finally:
        await storage.dispose()
    document = await _ok(await server.get("/api/v1/openapi.json"))
    seen = []
    for week in ("2026-11-02", "2026-11-09", "2026-11-16"):
        run = await _ok(await server.post("/api/v1/payroll/runs", headers=payroll, json={
            "schedule": "WK", "period_start": week}), 201)
        await _ok(await server.post(f"/api/v1/payroll/runs/{run['run_id']}/approve",
                                    headers=payroll))
        stub = await _ok(await server.get(
            f"/api/v1/payroll/runs/{run['run_id']}/stubs/E9", headers=payroll))
        jsonschema_rs.validate(document["components"]["schemas"]["PayStub"], stub)
        seen += [(d["current"], d["ytd"], d["balance_left"]) for d in stub["deductions"]]
    assert seen == [("100.00", "100.00", "50.00"), ("50.00", "150.00", "0.00"),
                    ("0.00", "150.00", "0.00")]
    html = await server.get(f"/api/v1/payroll/runs/{run['run_id']}/stubs/E9?format=html",
                            headers=payroll)
    assert "0.00 left to pay" in await html.text()
