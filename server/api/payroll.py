"""Head-office API: payroll (docs/payroll.md) — pay schedules, employees' pay profiles,
rates and deductions, timesheets with managers' corrections and approvals, pay runs (draft,
approve, post), the register, pay stubs and the direct-deposit file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backoffice.problems import Problem, read_json_object
from server import audit, keys
from server.api.params import iso_utc, job_run_json, money_field
from server.api.tabular import report_response
from server.auth import PRINCIPAL
from server.payroll.bank import BankAccount, BankAccountError
from server.payroll.nightly import PAYROLL_NIGHTLY, run_payroll_nightly
from server.payroll.outputs import (
    REGISTER_COLUMNS,
    money,
    nacha_file,
    register_rows,
    run_rows,
    stub_data,
    stub_html,
    stub_pdf,
)
from server.payroll.runs import (
    approve_run,
    create_run,
    load_run,
    post_run,
    recompute_run,
)
from server.payroll.schedule import PaySchedule, period_of
from server.payroll.tax_year import FREQUENCIES
from server.payroll.timekeeping import (
    PayrollRefusal,
    approve_clean_weeks,
    approve_week,
    correct_shift,
    store_zones,
    today_everywhere,
    week_doc,
    weeks_for,
)
from server.payroll.withholding import W4, W4Error
from server.roles import Permission, requires
from server.storage.tables import (
    employee_deductions,
    employee_pay,
    employees,
    job_runs,
    pay_rates,
    pay_runs,
    pay_schedules,
    paychecks,
    stores,
    timesheets,
)

routes = web.RouteTableDef()
PAYROLL = "/api/v1/payroll"


def _refused(exc: PayrollRefusal) -> Problem:
    extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
    return Problem(exc.status, exc.detail, **extra, **exc.extra)


def _who(request: web.Request) -> str:
    return str(request[PRINCIPAL].name)


def _money(minor: int | None) -> str | None:
    return None if minor is None else money(int(minor))


def _date(value: object, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Problem(422, f"{field}: a date YYYY-MM-DD", field=field) from None


def _query_date(request: web.Request, name: str) -> date:
    try:
        return date.fromisoformat(request.match_info.get(name) or request.query[name])
    except (KeyError, ValueError):
        raise Problem(400, f"{name}: a date YYYY-MM-DD") from None


# --- schedules ---------------------------------------------------------------------------

def _schedule_json(row: Any) -> dict[str, Any]:
    schedule = PaySchedule(row.code, row.frequency, row.anchor, int(row.pay_lag_days))
    try:
        upcoming = period_of(schedule, datetime.now(UTC).date())
        current: dict[str, Any] | None = {
            "start": upcoming.start.isoformat(), "end": upcoming.end.isoformat(),
            "pay_date": upcoming.pay_date.isoformat()}
    except ValueError:  # no bank holidays for the pay date's year yet
        current = None
    return {"code": row.code, "frequency": row.frequency, "anchor": row.anchor.isoformat(),
            "pay_lag_days": int(row.pay_lag_days), "current_period": current}


@routes.get(f"{PAYROLL}/schedules")
@requires(Permission.PAYROLL_READ)
async def list_schedules(request: web.Request) -> web.Response:
    """Pay schedules, each with its current period and pay date."""
    async with request.app[keys.STORAGE].read() as conn:
        rows = await conn.execute(sa.select(pay_schedules).order_by(pay_schedules.c.code))
        return web.json_response({"items": [_schedule_json(r) for r in rows]})


@routes.put(PAYROLL + "/schedules/{code:[A-Za-z0-9_-]{1,32}}")
@requires(Permission.PAYROLL_WRITE)
async def put_schedule(request: web.Request) -> web.Response:
    """Create a pay schedule (weekly and biweekly ones anchored on a period's first day). A
    schedule that already paid a run keeps its frequency and anchor."""
    body = await read_json_object(request)
    code = request.match_info["code"]
    frequency = body.get("frequency")
    if frequency not in FREQUENCIES:
        raise Problem(422, f"frequency: one of {', '.join(FREQUENCIES)}", field="frequency")
    anchor = _date(body.get("anchor", "2026-01-05"), "anchor")
    lag = body.get("pay_lag_days", 5)
    if type(lag) is not int or not 0 <= lag <= 31:
        raise Problem(422, "pay_lag_days: a whole number of days, 0 to 31",
                      field="pay_lag_days")
    async with request.app[keys.STORAGE].write() as conn:
        held = (await conn.execute(sa.select(pay_schedules).where(
            pay_schedules.c.code == code))).first()
        used = (await conn.execute(sa.select(pay_runs.c.run_id).where(
            pay_runs.c.schedule_code == code).limit(1))).first()
        if held is not None and used is not None and (
                held.frequency != frequency or held.anchor != anchor):
            raise Problem(409, f"schedule {code} has pay runs: its frequency and anchor are "
                               "fixed (make a new schedule and move employees to it)")
        values = {"frequency": frequency, "anchor": anchor, "pay_lag_days": lag}
        if held is None:
            await conn.execute(pay_schedules.insert().values(
                code=code, created_at=datetime.now(UTC), **values))
        else:
            await conn.execute(pay_schedules.update().where(pay_schedules.c.code == code)
                               .values(**values))
        row = (await conn.execute(sa.select(pay_schedules).where(
            pay_schedules.c.code == code))).one()
        await audit.record(conn, request[PRINCIPAL], "pay_schedule.put",
                           f"pay_schedule:{code}", None, _schedule_json(row))
    return web.json_response(_schedule_json(row))


# --- employees' pay ----------------------------------------------------------------------

async def _profile_json(conn: Any, employee_id: str) -> dict[str, Any]:
    row = (await conn.execute(sa.select(employee_pay).where(
        employee_pay.c.employee_id == employee_id))).first()
    if row is None:
        raise Problem(404, f"{employee_id} has no pay profile")
    rates = [{"effective_from": r.effective_from.isoformat(), "rate": _money(r.rate_minor),
              "created_by": r.created_by}
             for r in await conn.execute(sa.select(pay_rates).where(
                 pay_rates.c.employee_id == employee_id)
                 .order_by(pay_rates.c.effective_from))]
    cuts = [{"kind": d.kind, "amount": _money(d.amount_minor), "percent": d.percent,
             "annual_cap": _money(d.annual_cap_minor), "balance": _money(d.balance_minor),
             "reference": d.reference}
            for d in await conn.execute(sa.select(employee_deductions).where(
                employee_deductions.c.employee_id == employee_id)
                .order_by(employee_deductions.c.position))]
    return {"employee_id": employee_id, "pay_type": row.pay_type,
            "home_store_id": row.home_store_id, "work_state": row.work_state,
            "schedule": row.schedule_code, "w4": W4(**row.w4).to_document(),
            "bank_account": row.bank_masked, "rates": rates, "deductions": cuts,
            "updated_at": iso_utc(row.updated_at)}


@routes.get(PAYROLL + "/employees/{employee_id}")
@requires(Permission.PAYROLL_READ)
async def get_profile(request: web.Request) -> web.Response:
    """An employee's pay profile: pay type, home store, work state, schedule, Form W-4, the
    bank account (masked), rates and deductions."""
    async with request.app[keys.STORAGE].read() as conn:
        return web.json_response(await _profile_json(conn, request.match_info["employee_id"]))


@routes.put(PAYROLL + "/employees/{employee_id}")
@requires(Permission.PAYROLL_WRITE)
async def put_profile(request: web.Request) -> web.Response:
    """Set an employee's pay profile. The bank account is sealed at once and only shown
    masked; leave it out to keep the one on file, or send null to remove it."""
    body = await read_json_object(request)
    employee_id = request.match_info["employee_id"]
    pay_type = body.get("pay_type")
    if pay_type not in ("hourly", "salaried"):
        raise Problem(422, "pay_type: hourly or salaried", field="pay_type")
    state = body.get("work_state")
    if not isinstance(state, str) or len(state) != 2 or not state.isalpha():
        raise Problem(422, "work_state: the two-letter US state of the work location",
                      field="work_state")
    for name in ("home_store_id", "schedule"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise Problem(422, f"{name}: required, a code", field=name)
    try:
        w4 = W4.from_document(body.get("w4", {}))
    except W4Error as exc:
        raise Problem(422, f"w4.{exc}", field=f"w4.{exc.field}") from None
    values: dict[str, Any] = {"pay_type": pay_type, "work_state": state.upper(),
                              "home_store_id": body.get("home_store_id"),
                              "schedule_code": body.get("schedule"),
                              "w4": {k: getattr(w4, k) for k in W4.__dataclass_fields__},
                              "updated_at": datetime.now(UTC)}
    if "bank_account" in body:
        if body["bank_account"] is None:
            values.update(bank_sealed=None, bank_masked=None)
        else:
            try:
                account = BankAccount.from_document(body["bank_account"])
            except BankAccountError as exc:
                raise Problem(422, str(exc), field=exc.field) from None
            values.update(bank_sealed=request.app[keys.BANK_VAULT].seal(account),
                          bank_masked=account.masked())
    async with request.app[keys.STORAGE].write() as conn:
        if (await conn.execute(sa.select(employees.c.employee_id).where(
                employees.c.employee_id == employee_id))).first() is None:
            raise Problem(404, f"no employee {employee_id} (PUT /api/v1/employees/"
                               f"{employee_id} first)")
        if (await conn.execute(sa.select(stores.c.store_id).where(
                stores.c.store_id == values["home_store_id"]))).first() is None:
            raise Problem(422, f"home_store_id: no store {values['home_store_id']!r}",
                          field="home_store_id")
        if (await conn.execute(sa.select(pay_schedules.c.code).where(
                pay_schedules.c.code == values["schedule_code"]))).first() is None:
            raise Problem(422, f"schedule: no pay schedule {values['schedule_code']!r}",
                          field="schedule")
        held = (await conn.execute(sa.select(employee_pay).where(
            employee_pay.c.employee_id == employee_id))).first()
        before = await _profile_json(conn, employee_id) if held is not None else None
        if held is None:
            await conn.execute(employee_pay.insert().values(employee_id=employee_id,
                                                            **values))
        else:
            await conn.execute(employee_pay.update().where(
                employee_pay.c.employee_id == employee_id).values(**values))
        after = await _profile_json(conn, employee_id)
        await audit.record(conn, request[PRINCIPAL], "pay_profile.put",
                           f"employee:{employee_id}", before, after)
    return web.json_response(after)


@routes.post(PAYROLL + "/employees/{employee_id}/rates")
@requires(Permission.PAYROLL_WRITE)
async def add_rate(request: web.Request) -> web.Response:
    """A pay rate from a date on: per hour (hourly) or per year (salaried). Rates already
    paid in a run stay as they were."""
    body = await read_json_object(request)
    employee_id = request.match_info["employee_id"]
    rate = money_field(request, body.get("rate"), "rate")
    if rate == 0:
        raise Problem(422, "rate: must be more than 0", field="rate")
    since = _date(body.get("effective_from"), "effective_from")
    async with request.app[keys.STORAGE].write() as conn:
        if (await conn.execute(sa.select(employee_pay.c.employee_id).where(
                employee_pay.c.employee_id == employee_id))).first() is None:
            raise Problem(404, f"{employee_id} has no pay profile")
        paid = (await conn.execute(
            sa.select(pay_runs.c.run_id).join(paychecks, paychecks.c.run_id == pay_runs.c.run_id)
            .where(paychecks.c.employee_id == employee_id, pay_runs.c.period_end >= since,
                   pay_runs.c.status != "draft").limit(1))).first()
        if paid is not None:
            raise Problem(409, f"pay run {paid.run_id} already paid {employee_id} after "
                               f"{since}: a rate change for paid time is an off-cycle run",
                          field="effective_from")
        held = (await conn.execute(sa.select(pay_rates).where(
            pay_rates.c.employee_id == employee_id, pay_rates.c.effective_from == since))
            ).first()
        if held is not None:
            await conn.execute(pay_rates.delete().where(
                pay_rates.c.employee_id == employee_id, pay_rates.c.effective_from == since))
        await conn.execute(pay_rates.insert().values(
            employee_id=employee_id, effective_from=since, rate_minor=rate,
            created_by=_who(request), created_at=datetime.now(UTC)))
        await audit.record(conn, request[PRINCIPAL], "pay_rate.add", f"employee:{employee_id}",
                           {"effective_from": since.isoformat(),
                            "rate": _money(held.rate_minor)} if held else None,
                           {"effective_from": since.isoformat(), "rate": _money(rate)})
        return web.json_response(await _profile_json(conn, employee_id), status=201)


@routes.put(PAYROLL + "/employees/{employee_id}/deductions")
@requires(Permission.PAYROLL_WRITE)
async def put_deductions(request: web.Request) -> web.Response:
    """The employee's standing deductions, in the order they are taken (replacing the list):
    each a kind (config/payroll/deductions.toml) with an amount per paycheck or a percentage
    of gross, an optional annual cap and an optional reference (which order or plan: two
    deductions of one kind with caps need different references, each keeping its own)."""
    body = await read_json_object(request)
    employee_id = request.match_info["employee_id"]
    items = body.get("deductions")
    if not isinstance(items, list) or len(items) > 20:
        raise Problem(422, "deductions: a list (at most 20)", field="deductions")
    kinds = request.app[keys.PAYROLL].kinds
    rows = []
    for index, item in enumerate(items):
        where = f"deductions[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str) or \
                item["kind"] not in kinds:
            raise Problem(422, f"{where}.kind: one of {', '.join(sorted(kinds))}",
                          field=f"{where}.kind")
        amount = item.get("amount")
        percent = item.get("percent")
        if (amount is None) == (percent is None):
            raise Problem(422, f"{where}: an amount or a percent, not both",
                          field=f"{where}.amount")
        if percent is not None:
            try:
                value = Decimal(str(percent))
            except InvalidOperation:
                value = Decimal(-1)
            if not isinstance(percent, str) or len(percent) > 16 or not value.is_finite() \
                    or not 0 < value <= 100:
                raise Problem(422, f"{where}.percent: a decimal string above 0, at most 100",
                              field=f"{where}.percent")
        cap = item.get("annual_cap")
        balance = item.get("balance")
        reference = item.get("reference")
        if reference is not None and (not isinstance(reference, str)
                                      or not 0 < len(reference) <= 64):
            raise Problem(422, f"{where}.reference: text of 1 to 64 characters",
                          field=f"{where}.reference")
        if balance is not None and reference is None:
            raise Problem(422, f"{where}.reference: a deduction with a balance names its order "
                               "(a case or loan number): what it took is counted by it, over "
                               "the years", field=f"{where}.reference")
        order = (item["kind"], reference)
        twin = next((i for i, other in enumerate(items[:index])
                     if isinstance(other, dict)
                     and (other.get("kind"), other.get("reference")) == order
                     and any(x is not None for x in (cap, balance, other.get("annual_cap"),
                                                     other.get("balance")))), None)
        if twin is not None:
            raise Problem(422, f"{where}.reference: deductions[{twin}] is a {item['kind']} "
                               "with the same reference; with an annual cap or a balance each "
                               "needs its own (a case number, say)", field=f"{where}.reference")
        rows.append({"employee_id": employee_id, "position": index, "kind": item["kind"],
                     "amount_minor": None if amount is None
                     else money_field(request, amount, f"{where}.amount"),
                     "percent": percent,
                     "annual_cap_minor": None if cap is None
                     else money_field(request, cap, f"{where}.annual_cap"),
                     "balance_minor": None if balance is None
                     else money_field(request, balance, f"{where}.balance"),
                     "reference": reference})
    async with request.app[keys.STORAGE].write() as conn:
        if (await conn.execute(sa.select(employee_pay.c.employee_id).where(
                employee_pay.c.employee_id == employee_id))).first() is None:
            raise Problem(404, f"{employee_id} has no pay profile")
        before = (await _profile_json(conn, employee_id))["deductions"]
        await conn.execute(employee_deductions.delete().where(
            employee_deductions.c.employee_id == employee_id))
        if rows:
            await conn.execute(employee_deductions.insert(), rows)
        after = await _profile_json(conn, employee_id)
        await audit.record(conn, request[PRINCIPAL], "deductions.put",
                           f"employee:{employee_id}", {"deductions": before},
                           {"deductions": after["deductions"]})
    return web.json_response(after)


# --- time --------------------------------------------------------------------------------

def _time_settings(request: web.Request) -> tuple[Any, str]:
    return request.app[keys.PAYROLL].rules, request.app[keys.SETTINGS].payroll.workweek_start


@routes.get(PAYROLL + "/timesheets/{employee_id}/{week_start}")
@requires(Permission.TIME_READ)
async def get_timesheet(request: web.Request) -> web.Response:
    """One employee's workweek: shifts from the punches (after corrections), exceptions to
    resolve, minutes per workday and multiplier, and whether it is approved."""
    week_start = _query_date(request, "week_start")
    employee_id = request.match_info["employee_id"]
    rules, first = _time_settings(request)
    async with request.app[keys.STORAGE].read() as conn:
        zones = await store_zones(conn)
        weeks = await weeks_for(conn, [employee_id], week_start, week_start, rules, first,
                                zones)
    week = next(iter(weeks.values()), None)
    if week is None or week.week_start != week_start:
        raise Problem(404, f"{employee_id} has no time in the workweek starting {week_start} "
                           f"(workweeks start on {first})")
    return web.json_response(week_doc(week, zones))


@routes.get(PAYROLL + "/timesheets")
@requires(Permission.TIME_READ)
async def list_timesheets(request: web.Request) -> web.Response:
    """Closed and approved timesheets of a workweek (``week_start``), with their exceptions:
    what managers still have to approve."""
    week_start = _query_date(request, "week_start")
    query = sa.select(timesheets).where(timesheets.c.week_start == week_start) \
        .order_by(timesheets.c.employee_id)
    if status := request.query.get("status"):
        if status not in ("closed", "approved"):
            raise Problem(400, "status: closed or approved")
        query = query.where(timesheets.c.status == status)
    async with request.app[keys.STORAGE].read() as conn:
        rows = list(await conn.execute(query))
    return web.json_response({"items": [
        {"employee_id": r.employee_id, "week_start": r.week_start.isoformat(),
         "status": r.status, "rule_set": r.rule_set, "worked_minutes": r.worked_minutes,
         "minutes": r.minutes, "exceptions": r.exceptions,
         "approved_by": r.approved_by, "approved_at": iso_utc(r.approved_at)} for r in rows]})


@routes.post(PAYROLL + "/corrections")
@requires(Permission.TIME_APPROVE)
async def post_correction(request: web.Request) -> web.Response:
    """A manager's correction to a shift (set its times, add one, void one), with the
    reason; the punches themselves never change. Refused for an approved week."""
    body = await read_json_object(request)
    rules, first = _time_settings(request)
    async with request.app[keys.STORAGE].write() as conn:
        try:
            record = await correct_shift(conn, body, rules, first, _who(request))
        except PayrollRefusal as exc:
            raise _refused(exc) from exc
        doc = {k: (iso_utc(v) if isinstance(v, datetime) else v) for k, v in record.items()}
        await audit.record(conn, request[PRINCIPAL], "shift.correct",
                           f"employee:{record['employee_id']}", record["before"],
                           record["after"])
    return web.json_response(doc, status=201)


@routes.post(PAYROLL + "/timesheets/{employee_id}/{week_start}/approve")
@requires(Permission.TIME_APPROVE)
async def approve_timesheet(request: web.Request) -> web.Response:
    """Approve a workweek that has ended and has no exception left; it is then locked."""
    week_start = _query_date(request, "week_start")
    employee_id = request.match_info["employee_id"]
    rules, first = _time_settings(request)
    async with request.app[keys.STORAGE].write() as conn:
        try:
            week = await approve_week(conn, employee_id, week_start, rules, first,
                                      _who(request), today_everywhere(datetime.now(UTC)))
        except PayrollRefusal as exc:
            raise _refused(exc) from exc
        zones = await store_zones(conn)
        doc = week_doc(week, zones)
        await audit.record(conn, request[PRINCIPAL], "timesheet.approve",
                           f"employee:{employee_id}", None,
                           {"week_start": doc["week_start"], "minutes": doc["minutes"]})
    return web.json_response(doc)


@routes.post(PAYROLL + "/timesheets/{week_start}/approve-all")
@requires(Permission.TIME_APPROVE)
async def approve_all_timesheets(request: web.Request) -> web.Response:
    """Approve every timesheet of an ended workweek that has no exception left (optionally
    only one store's employees, ``store_id``); answers those approved and those still
    waiting for a correction."""
    week_start = _query_date(request, "week_start")
    rules, first = _time_settings(request)
    async with request.app[keys.STORAGE].write() as conn:
        ids = None
        if store_id := request.query.get("store_id"):
            ids = [r.employee_id for r in await conn.execute(
                sa.select(employee_pay.c.employee_id).where(
                    employee_pay.c.home_store_id == store_id))]
        try:
            approved, left = await approve_clean_weeks(
                conn, week_start, ids, rules, first, _who(request),
                today_everywhere(datetime.now(UTC)))
        except PayrollRefusal as exc:
            raise _refused(exc) from exc
        await audit.record(conn, request[PRINCIPAL], "timesheet.approve_all",
                           f"week:{week_start.isoformat()}", None,
                           {"approved": len(approved), "store_id": store_id or None})
    return web.json_response({"week_start": week_start.isoformat(), "approved": approved,
                              "waiting": left})


# --- pay runs ----------------------------------------------------------------------------

def _run_json(row: Any) -> dict[str, Any]:
    totals = dict(row.totals)
    return {"run_id": row.run_id, "schedule": row.schedule_code, "kind": row.kind,
            "period_start": row.period_start.isoformat(),
            "period_end": row.period_end.isoformat(), "pay_date": row.pay_date.isoformat(),
            "status": row.status, "corrects_run_id": row.corrects_run_id,
            "paychecks": totals.get("paychecks", 0),
            **{name.removesuffix("_minor"): _money(totals.get(name, 0))
               for name in ("gross_minor", "employee_taxes_minor", "employer_taxes_minor",
                            "deductions_minor", "net_minor")},
            "created_by": row.created_by, "created_at": iso_utc(row.created_at),
            "approved_by": row.approved_by, "approved_at": iso_utc(row.approved_at),
            "posted_by": row.posted_by, "posted_at": iso_utc(row.posted_at)}


@routes.get(f"{PAYROLL}/runs")
@requires(Permission.PAYROLL_READ)
async def list_runs(request: web.Request) -> web.Response:
    """Pay runs, newest pay date first."""
    async with request.app[keys.STORAGE].read() as conn:
        rows = await conn.execute(sa.select(pay_runs).order_by(pay_runs.c.pay_date.desc(),
                                                                pay_runs.c.created_at.desc())
                                  .limit(200))
        return web.json_response({"items": [_run_json(r) for r in rows]})


@routes.post(f"{PAYROLL}/runs")
@requires(Permission.PAYROLL_WRITE)
async def start_run(request: web.Request) -> web.Response:
    """Draft a pay run (its preview): a regular run for one period of a schedule (every
    timesheet with time in it approved), or an off-cycle run of listed earnings."""
    body = await read_json_object(request)
    async with request.app[keys.STORAGE].write() as conn:
        try:
            run_id = await create_run(conn, request.app[keys.PAYROLL], body, _who(request),
                                      today_everywhere(datetime.now(UTC)))
        except PayrollRefusal as exc:
            raise _refused(exc) from exc
        row = await load_run(conn, run_id)
        await audit.record(conn, request[PRINCIPAL], "pay_run.draft", f"pay_run:{run_id}",
                           None, _run_json(row))
    return web.json_response(_run_json(row), status=201)


async def _the_run(request: web.Request, conn: Any) -> Any:
    """The run the path names, or 404."""
    try:
        return await load_run(conn, request.match_info["run_id"])
    except PayrollRefusal as exc:
        raise _refused(exc) from exc


@routes.get(PAYROLL + "/runs/{run_id}")
@requires(Permission.PAYROLL_READ)
async def get_run(request: web.Request) -> web.Response:
    """A pay run and its totals."""
    async with request.app[keys.STORAGE].read() as conn:
        row = await _the_run(request, conn)
    return web.json_response(_run_json(row))


async def _transition(request: web.Request, action: str) -> web.Response:
    run_id = request.match_info["run_id"]
    ctx = request.app[keys.PAYROLL]
    extra: dict[str, Any] = {}
    async with request.app[keys.STORAGE].write() as conn:
        try:
            before = _run_json(await load_run(conn, run_id))
            if action == "approve":
                await approve_run(conn, ctx, run_id, _who(request))
            elif action == "post":
                extra["journal_entries"] = await post_run(conn, ctx, run_id, _who(request))
            else:
                await recompute_run(conn, ctx, run_id)
        except PayrollRefusal as exc:
            raise _refused(exc) from exc
        after = _run_json(await load_run(conn, run_id))
        await audit.record(conn, request[PRINCIPAL], f"pay_run.{action}",
                           f"pay_run:{run_id}", before, after)
    return web.json_response({**after, **extra})


@routes.post(PAYROLL + "/runs/{run_id}/recompute")
@requires(Permission.PAYROLL_WRITE)
async def recompute(request: web.Request) -> web.Response:
    """Recompute a draft from today's timesheets, rates and earlier runs."""
    return await _transition(request, "recompute")


@routes.post(PAYROLL + "/runs/{run_id}/approve")
@requires(Permission.PAYROLL_APPROVE)
async def approve(request: web.Request) -> web.Response:
    """Approve a draft (role payroll): refused if its figures changed since the preview."""
    return await _transition(request, "approve")


@routes.post(PAYROLL + "/runs/{run_id}/post")
@requires(Permission.PAYROLL_APPROVE)
async def post(request: web.Request) -> web.Response:
    """Post an approved run: its payroll journal entries go into the general ledger (once);
    the run never changes after."""
    return await _transition(request, "post")


@routes.get(PAYROLL + "/runs/{run_id}/register")
@requires(Permission.PAYROLL_READ)
async def register(request: web.Request) -> web.Response:
    """The payroll register: one row per paycheck (JSON, or CSV with format=csv)."""
    async with request.app[keys.STORAGE].read() as conn:
        run = await _the_run(request, conn)
        rows = register_rows(await run_rows(conn, run.run_id))
    return report_response(request, f"payroll-register-{run.run_id}", REGISTER_COLUMNS, rows,
                           {"run": _run_json(run)})


@routes.get(PAYROLL + "/runs/{run_id}/stubs/{employee_id}")
@requires(Permission.PAYROLL_READ)
async def stub(request: web.Request) -> web.StreamResponse:
    """A pay stub: JSON (default), or format=html / format=pdf."""
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "html", "pdf"):
        raise Problem(400, "format: json, html or pdf")
    async with request.app[keys.STORAGE].read() as conn:
        run = await _the_run(request, conn)
        try:
            data = await stub_data(conn, run, request.match_info["employee_id"])
        except PayrollRefusal as exc:
            raise _refused(exc) from exc
    if fmt == "html":
        return web.Response(text=stub_html(data), content_type="text/html")
    if fmt == "pdf":
        return web.Response(body=stub_pdf(data), content_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="stub-{run.run_id}-'
                                   f'{data["employee_id"]}.pdf"'})
    return web.json_response(data)


@routes.get(PAYROLL + "/runs/{run_id}/nacha")
@requires(Permission.PAYROLL_APPROVE)
async def nacha(request: web.Request) -> web.Response:
    """The run's direct deposits as a NACHA (ACH PPD) file; employees without a bank account
    on file are listed in the X-Paper-Checks header."""
    async with request.app[keys.STORAGE].read() as conn:
        run = await _the_run(request, conn)
        try:
            text, paper = await nacha_file(conn, run, request.app[keys.SETTINGS].payroll,
                                           request.app[keys.BANK_VAULT])
        except PayrollRefusal as exc:
            raise _refused(exc) from exc
    return web.Response(text=text, content_type="text/plain", headers={
        "Content-Disposition": f'attachment; filename="ach-{run.run_id}.txt"',
        "X-Paper-Checks": ",".join(paper)})


@routes.get(f"{PAYROLL}/jobs")
@requires(Permission.PAYROLL_READ)
async def list_payroll_jobs(request: web.Request) -> web.Response:
    """Payroll's nightly job runs, newest first: when, which process, the outcome and what
    it did (timesheets closed, runs drafted, periods still waiting and why)."""
    async with request.app[keys.STORAGE].read() as conn:
        rows = await conn.execute(sa.select(job_runs).where(job_runs.c.job == PAYROLL_NIGHTLY)
                                  .order_by(job_runs.c.id.desc()).limit(100))
        return web.json_response({"items": [job_run_json(r) for r in rows]})


@routes.post(f"{PAYROLL}/jobs/nightly/run")
@requires(Permission.PAYROLL_WRITE)
async def run_payroll_job_now(request: web.Request) -> web.Response:
    """Run payroll's nightly job now (close ended workweeks' timesheets, draft the runs of
    ended periods) and answer what it did."""
    slot = f"manual-{datetime.now(UTC).isoformat()}"
    result = await run_payroll_nightly(request.app[keys.STORAGE], request.app[keys.PAYROLL],
                                       slot)
    if result is None:
        raise Problem(409, "a run for this moment is already under way; try again")
    return web.json_response({"slot": slot, **result})
