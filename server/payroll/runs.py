"""Pay runs: draft (a preview anyone with payroll access can read), approve (role payroll),
post (the payroll journal into the general ledger, exactly once). A posted run never changes;
a correction is an off-cycle run.

A regular run pays one period of one pay schedule: hourly employees from their approved
timesheets (every workweek with time in the period must be approved), day by day at the rate
in effect that day; salaried employees their annual salary over the year's pay periods,
prorated by calendar days when a salary starts or changes inside the period. Year-to-date
figures (wage bases, deduction limits) come from the runs of the same calendar year approved
or posted before.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounting.chart import Chart
from server.accounting.posting import write_entries
from server.payroll.journal import figures_of_row, payroll_drafts
from server.payroll.overtime import STRAIGHT, OvertimeRules
from server.payroll.paycheck import (
    DeductionKind,
    Earning,
    EmployeeDeduction,
    Paycheck,
    YearToDate,
    compute_paycheck,
    deduction_order,
    hourly_earning,
)
from server.payroll.schedule import PaySchedule, period_of
from server.payroll.supplemental import SupplementalHistory
from server.payroll.tax_year import TaxYear, TaxYearError, load_tax_year
from server.payroll.taxes import TaxWagesToDate
from server.payroll.timekeeping import CHUNK, PayrollRefusal, weeks_for
from server.payroll.withholding import W4, round_half_up
from server.storage.tables import (
    employee_deductions,
    employee_pay,
    employees,
    pay_rates,
    pay_runs,
    pay_schedules,
    paychecks,
)

EARNING_CODES = {Decimal(1): "regular", Decimal("1.5"): "overtime", Decimal(2): "double_time"}


@dataclass(frozen=True, slots=True)
class PayrollContext:
    """What runs need besides the database: rules, tables, the chart, the workweek."""

    rules: OvertimeRules
    kinds: dict[str, DeductionKind]
    chart: Chart
    first_weekday: str
    currency: str = "USD"

    def tax_year(self, year: int) -> TaxYear:
        try:
            return load_tax_year(year)
        except TaxYearError as exc:
            raise PayrollRefusal(409, str(exc), "pay_date") from None


@dataclass(frozen=True, slots=True)
class Profile:
    employee_id: str
    name: str
    pay_type: str
    store_id: str
    schedule: PaySchedule
    w4: W4
    rates: tuple[tuple[date, int], ...]  # (effective from, rate), rising
    deductions: tuple[EmployeeDeduction, ...]

    def rate_on(self, day: date) -> int | None:
        current = None
        for since, rate in self.rates:
            if since <= day:
                current = rate
            else:
                break
        return current


def schedule_from_row(row: Any) -> PaySchedule:
    return PaySchedule(row.code, row.frequency, row.anchor, int(row.pay_lag_days))


async def load_schedule(conn: AsyncConnection, code: str) -> PaySchedule:
    row = (await conn.execute(sa.select(pay_schedules).where(
        pay_schedules.c.code == code))).first()
    if row is None:
        raise PayrollRefusal(404, f"no pay schedule {code!r}", "schedule")
    return schedule_from_row(row)


async def load_profiles(conn: AsyncConnection, schedule: PaySchedule | None,
                        employee_ids: Sequence[str] | None = None) -> dict[str, Profile]:
    query = (sa.select(employee_pay, employees.c.name, pay_schedules)
             .join(employees, employees.c.employee_id == employee_pay.c.employee_id)
             .join(pay_schedules, pay_schedules.c.code == employee_pay.c.schedule_code)
             .where(employees.c.active.is_(True)))
    if schedule is not None:
        query = query.where(employee_pay.c.schedule_code == schedule.code)
    if employee_ids is not None:
        query = query.where(employee_pay.c.employee_id.in_(list(employee_ids)))
    rows = list(await conn.execute(query))
    ids = [r.employee_id for r in rows]
    rates: dict[str, list[tuple[date, int]]] = defaultdict(list)
    cuts: dict[str, list[EmployeeDeduction]] = defaultdict(list)
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        for r in await conn.execute(sa.select(pay_rates).where(
                pay_rates.c.employee_id.in_(chunk)).order_by(pay_rates.c.effective_from)):
            rates[r.employee_id].append((r.effective_from, int(r.rate_minor)))
        for r in await conn.execute(sa.select(employee_deductions).where(
                employee_deductions.c.employee_id.in_(chunk))
                .order_by(employee_deductions.c.position)):
            cuts[r.employee_id].append(EmployeeDeduction(
                r.kind, amount=None if r.amount_minor is None else int(r.amount_minor),
                percent=None if r.percent is None else Decimal(r.percent),
                annual_cap=None if r.annual_cap_minor is None else int(r.annual_cap_minor),
                reference=r.reference,
                balance=None if r.balance_minor is None else int(r.balance_minor)))
    return {r.employee_id: Profile(r.employee_id, r.name, r.pay_type, r.home_store_id,
                                   PaySchedule(r.code, r.frequency, r.anchor,
                                               int(r.pay_lag_days)),
                                   W4(**r.w4) if r.w4 else W4(), tuple(rates[r.employee_id]),
                                   tuple(cuts[r.employee_id]))
            for r in rows}


async def _paid(conn: AsyncConnection, columns: Sequence[Any], employee_ids: Sequence[str],
                exclude_run: str | None, since: date | None = None,
                until: date | None = None) -> AsyncIterator[Any]:
    """``columns`` (with the employee id) of the approved or posted paychecks of
    ``employee_ids`` paid from ``since`` to ``until``, other than ``exclude_run``'s: what
    every figure carried over from earlier paychecks is read from, a thousand employees at
    a time."""
    for start in range(0, len(employee_ids), 1000):
        query = (sa.select(paychecks.c.employee_id, *columns)
                 .join(pay_runs, pay_runs.c.run_id == paychecks.c.run_id)
                 .where(paychecks.c.employee_id.in_(list(employee_ids[start:start + 1000])),
                        pay_runs.c.status.in_(["approved", "posted"])))
        if since is not None:
            query = query.where(paychecks.c.pay_date >= since)
        if until is not None:
            query = query.where(paychecks.c.pay_date <= until)
        if exclude_run is not None:
            query = query.where(paychecks.c.run_id != exclude_run)
        for row in await conn.execute(query):
            yield row


async def year_to_date(conn: AsyncConnection, employee_ids: Sequence[str], year: int,
                       exclude_run: str | None) -> dict[str, YearToDate]:
    """The approved or posted paychecks of ``year`` (by pay date) other than this run's:
    whatever their order, no wage base or limit is ever counted twice."""
    out: dict[str, YearToDate] = {}
    sums: dict[str, list[int]] = {}
    orders: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    async for r in _paid(conn, (paychecks.c.ss_wages_minor, paychecks.c.medicare_wages_minor,
                                paychecks.c.futa_wages_minor, paychecks.c.deductions),
                         employee_ids, exclude_run, date(year, 1, 1), date(year, 12, 31)):
        total = sums.setdefault(r.employee_id, [0, 0, 0])
        total[0] += int(r.ss_wages_minor)
        total[1] += int(r.medicare_wages_minor)
        total[2] += int(r.futa_wages_minor)
        for item in r.deductions:
            orders[r.employee_id][deduction_order(item["kind"], item.get("reference"))] \
                += int(item["amount_minor"])
    for employee_id in employee_ids:
        ss, medicare, futa = sums.get(employee_id, [0, 0, 0])
        out[employee_id] = YearToDate(TaxWagesToDate(ss, medicare, futa),
                                      dict(orders.get(employee_id, {})))
    return out


async def taken_ever(conn: AsyncConnection, orders: dict[str, set[tuple[str, str]]],
                     exclude_run: str | None) -> dict[str, dict[tuple[str, str], int]]:
    """What the approved or posted paychecks of every year other than this run's took for
    ``orders`` (per employee, the deduction orders that carry a balance)."""
    out: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    async for r in _paid(conn, (paychecks.c.deductions,), sorted(orders), exclude_run):
        for item in r.deductions:
            order = deduction_order(item["kind"], item.get("reference"))
            if order in orders[r.employee_id]:
                out[r.employee_id][order] += int(item["amount_minor"])
    return {employee_id: dict(taken) for employee_id, taken in out.items()}


async def supplemental_histories(conn: AsyncConnection, employee_ids: Sequence[str],
                                 pay_date: date, exclude_run: str | None
                                 ) -> dict[str, SupplementalHistory]:
    """For an off-cycle run paid on ``pay_date``: per employee, from the approved or posted
    paychecks of this calendar year and the one before, whether regular wages had income
    tax withheld, the year's supplemental wages so far (every other off-cycle paycheck of
    the year, whatever its date, as the wage bases count them), and what the aggregate
    method adds to: the latest regular paycheck of the year up to ``pay_date`` and the
    supplemental payments after it up to ``pay_date``."""
    withheld: set[str] = set()
    supplemental: dict[str, int] = defaultdict(int)
    regular: dict[str, tuple[date, int, int]] = {}
    extras: dict[str, list[tuple[date, int, int]]] = defaultdict(list)
    async for r in _paid(conn, (pay_runs.c.kind, paychecks.c.pay_date,
                                paychecks.c.income_tax_wages_minor, paychecks.c.income_tax_minor),
                         employee_ids, exclude_run, date(pay_date.year - 1, 1, 1),
                         date(pay_date.year, 12, 31)):
        paid = (r.pay_date, int(r.income_tax_wages_minor), int(r.income_tax_minor))
        this_year, so_far = r.pay_date.year == pay_date.year, r.pay_date <= pay_date
        if r.kind != "regular":
            if this_year:
                supplemental[r.employee_id] += paid[1]
                if so_far:
                    extras[r.employee_id].append(paid)
            continue
        if paid[2] > 0 and so_far:
            withheld.add(r.employee_id)
        held = regular.get(r.employee_id)
        if this_year and so_far and (held is None or r.pay_date > held[0]):
            regular[r.employee_id] = paid
    out = {}
    for employee_id in employee_ids:
        # No regular paycheck this year: no period to add to; the payment stands alone.
        since, wages, tax = regular.get(employee_id, (date.max, 0, 0))
        later = [e for e in extras[employee_id] if e[0] >= since]
        out[employee_id] = SupplementalHistory(
            employee_id in withheld, supplemental[employee_id],
            wages + sum(e[1] for e in later), tax + sum(e[2] for e in later))
    return out


def _code(multiplier: Decimal) -> str:
    return EARNING_CODES.get(multiplier, f"premium_{multiplier}")


def hourly_earnings(profile: Profile, workweeks: Iterable[dict[date, dict[Decimal, int]]],
                    start: date, end: date) -> list[Earning]:
    """The period's worked minutes (``workweeks``: minutes per workday and multiplier, one
    dict per workweek) as earnings, grouped by rate and multiplier: each minute at the rate
    in effect on its day, times its multiplier.

    A workweek worked at more than one rate (a raise that took effect inside it) has one
    regular rate for its overtime, as the FLSA reckons it (29 CFR 778.115): the straight-time
    pay of all its hours divided by those hours. An overtime minute then earns its day's
    rate plus (multiplier − 1) × that regular rate, and the week's overtime is one line per
    multiplier, at no single rate. Bonuses do not enter the regular rate (regular runs pay
    none)."""
    grouped: dict[tuple[int, Decimal], int] = defaultdict(int)
    blended: dict[Decimal, tuple[int, Fraction]] = {}  # multiplier -> minutes, amount
    for week in workweeks:
        rates = _rates_worked(profile, week)
        regular = _regular_rate(week, rates) if len(set(rates.values())) > 1 else None
        for day, split in week.items():
            if not start <= day <= end:
                continue
            for multiplier, minutes in split.items():
                if not minutes:
                    continue
                rate = rates[day]
                if regular is None or multiplier == STRAIGHT:
                    grouped[(rate, multiplier)] += minutes
                    continue
                held, amount = blended.get(multiplier, (0, Fraction(0)))
                blended[multiplier] = (held + minutes, amount + Fraction(minutes, 60) * (
                    rate + (Fraction(multiplier) - 1) * regular))
    earnings = [hourly_earning(_code(multiplier), minutes, rate, multiplier)
                for (rate, multiplier), minutes in grouped.items()]
    earnings += [Earning(_code(multiplier), round_half_up(amount), minutes, None, multiplier)
                 for multiplier, (minutes, amount) in blended.items()]
    return sorted(earnings, key=lambda e: (e.multiplier, e.rate is None, e.rate or 0))


def _rates_worked(profile: Profile, week: dict[date, dict[Decimal, int]]) -> dict[date, int]:
    """The rate in effect on each day of ``week`` with time worked."""
    rates = {}
    for day, split in week.items():
        if not any(split.values()):
            continue
        rate = profile.rate_on(day)
        if rate is None:
            raise PayrollRefusal(409, f"{profile.employee_id} worked on {day} but has no pay "
                                      "rate in effect that day (its workweek's overtime "
                                      "needs every day's rate, in this period or not)",
                                 "rates")
        rates[day] = rate
    return rates


def _regular_rate(week: dict[date, dict[Decimal, int]], rates: dict[date, int]) -> Fraction:
    """The week's regular rate in cents an hour: straight-time pay of every minute worked,
    over the minutes worked."""
    worked = {day: sum(split.values()) for day, split in week.items() if day in rates}
    return Fraction(sum(minutes * rates[day] for day, minutes in worked.items()),
                    sum(worked.values()))


def salary_earnings(profile: Profile, start: date, end: date, periods: int) -> list[Earning]:
    """The annual salary over the year's periods, prorated by the period's days on each
    salary (days before the first salary are not paid)."""
    days = (end - start).days + 1
    share: dict[int, int] = defaultdict(int)
    day = start
    while day <= end:
        rate = profile.rate_on(day)
        if rate is not None:
            share[rate] += 1
        day += timedelta(days=1)
    amount = round_half_up(sum((Fraction(rate, periods) * Fraction(n, days)
                                for rate, n in share.items()), Fraction(0)))
    return [Earning("salary", amount)] if amount else []


def paycheck_row(run_id: str, pay_date: date, profile: Profile, check: Paycheck,
                 frequency: str) -> dict[str, Any]:
    taxes = check.taxes
    return {
        "run_id": run_id, "employee_id": profile.employee_id, "store_id": profile.store_id,
        "pay_date": pay_date, "gross_minor": check.gross,
        "income_tax_wages_minor": check.income_tax_wages,
        "ss_wages_minor": taxes.social_security_wages,
        "medicare_wages_minor": taxes.medicare_wages, "futa_wages_minor": taxes.futa_wages,
        "income_tax_minor": check.income_tax,
        "ss_employee_minor": taxes.social_security_employee,
        "medicare_employee_minor": taxes.medicare_employee,
        "ss_employer_minor": taxes.social_security_employer,
        "medicare_employer_minor": taxes.medicare_employer,
        "futa_employer_minor": taxes.futa_employer,
        "deductions": [{"kind": d.kind, "name": d.name, "pre_tax": d.pre_tax,
                        "amount_minor": d.amount, "shortfall_minor": d.shortfall,
                        "reference": d.reference,
                        **({} if d.balance_left is None
                           else {"balance_left_minor": d.balance_left})}
                       for d in (*check.pre_tax, *check.post_tax)],
        "net_minor": check.net,
        "detail": {
            "name": profile.name, "frequency": frequency, "w4": profile.w4.to_document(),
            "earnings": [{"code": e.code, "minutes": e.minutes, "rate_minor": e.rate,
                          "multiplier": str(e.multiplier), "amount_minor": e.amount}
                         for e in check.earnings],
            "additional_medicare_wages_minor": taxes.additional_medicare_wages,
            "income_tax_shortfall_minor": check.income_tax_shortfall,
            "income_tax_method": check.income_tax_method,
            "worksheet_1a": {name: (str(value) if not isinstance(value, int) else value)
                             for name, value in _worksheet_lines(check).items()}}}


def _worksheet_lines(check: Paycheck) -> dict[str, Any]:
    sheet = check.worksheet
    return {} if sheet is None else {f.name: getattr(sheet, f.name) for f in fields(sheet)}


async def compute_run(conn: AsyncConnection, ctx: PayrollContext, run_id: str,
                      schedule: PaySchedule, start: date, end: date, pay_date: date,
                      kind: str, adjustments: Sequence[dict[str, Any]] = ()
                      ) -> list[dict[str, Any]]:
    """Every paycheck of the run as a ``paychecks`` row, computed now (nothing written)."""
    year = ctx.tax_year(pay_date.year)
    if kind == "regular":
        profiles = await load_profiles(conn, schedule)
    else:
        named = sorted({a["employee_id"] for a in adjustments})
        profiles = await load_profiles(conn, None, named)
        if unknown := [e for e in named if e not in profiles]:
            raise PayrollRefusal(422, f"earnings: no active employee with a pay profile: "
                                      f"{', '.join(unknown[:10])}", "earnings")
    ids = sorted(profiles)
    to_date = await year_to_date(conn, ids, pay_date.year, run_id)
    balances = {i: {d.order for d in profiles[i].deductions if d.balance is not None}
                for i in ids}
    if ever := await taken_ever(conn, {i: o for i, o in balances.items() if o}, run_id):
        to_date = {i: replace(t, ever_by_order=ever.get(i, {})) for i, t in to_date.items()}
    history = await supplemental_histories(conn, ids, pay_date, run_id) \
        if kind != "regular" else {}
    extra: dict[str, list[Earning]] = defaultdict(list)
    for item in adjustments:
        extra[item["employee_id"]].append(Earning(item["code"], int(item["amount_minor"])))
    rows: list[dict[str, Any]] = []
    pending: list[tuple[str, str]] = []
    hourly = [i for i in ids if profiles[i].pay_type == "hourly"] if kind == "regular" else []
    # Hourly employees a chunk at a time (one chunk's timesheets in memory), then the rest.
    timed = set(hourly)
    chunks = [(hourly[i:i + CHUNK], True) for i in range(0, len(hourly), CHUNK)]
    chunks.append(([i for i in ids if i not in timed], False))
    for chunk, from_timesheets in chunks:
        weeks = await weeks_for(conn, chunk, start, end, ctx.rules, ctx.first_weekday) \
            if from_timesheets else {}
        pending += [(e, w.week_start.isoformat()) for (e, _), w in weeks.items()
                    if w.status != "approved" and (w.exceptions or any(
                        start <= d <= end and sum(m.values())
                        for d, m in w.split.by_day.items()))]
        if pending:
            continue  # refused below; the rest is only counted
        by_employee: dict[str, list[dict[date, dict[Decimal, int]]]] = defaultdict(list)
        for (employee_id, _), week in weeks.items():
            by_employee[employee_id].append(week.split.by_day)
        for employee_id in chunk:
            profile = profiles[employee_id]
            frequency = profile.schedule.frequency
            if kind == "regular":
                earnings = (hourly_earnings(profile, by_employee.get(employee_id, []), start,
                                            end)
                            if profile.pay_type == "hourly" else
                            salary_earnings(profile, start, end, year.pay_periods[frequency]))
                deductions = list(profile.deductions)
            else:
                earnings, deductions = extra[employee_id], []
            if not earnings:
                continue
            try:
                check = compute_paycheck(earnings, deductions, ctx.kinds, profile.w4,
                                         frequency, year, to_date[employee_id],
                                         history.get(employee_id))
            except ValueError as exc:
                raise PayrollRefusal(422, f"{employee_id}: {exc}", "employee_id") from None
            rows.append(paycheck_row(run_id, pay_date, profile, check, frequency))
    if pending:
        pending.sort()
        raise PayrollRefusal(409, f"{len(pending)} timesheet(s) with time in this period are "
                                  "not approved", unapproved=[
                                      {"employee_id": e, "week_start": w}
                                      for e, w in pending[:200]])
    return rows


def run_totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def total(name: str) -> int:
        return sum(int(r[name]) for r in rows)

    employee_taxes = total("income_tax_minor") + total("ss_employee_minor") + \
        total("medicare_employee_minor")
    return {"paychecks": len(rows), "gross_minor": total("gross_minor"),
            "employee_taxes_minor": employee_taxes,
            "employer_taxes_minor": total("ss_employer_minor") +
            total("medicare_employer_minor") + total("futa_employer_minor"),
            "deductions_minor": sum(int(d["amount_minor"]) for r in rows
                                    for d in r["deductions"]),
            "net_minor": total("net_minor")}


async def create_run(conn: AsyncConnection, ctx: PayrollContext, doc: dict[str, Any],
                     who: str, today: date) -> str:
    """Draft a run; ``today``: the date in every store (``today_everywhere``): a regular run
    pays a period that has ended."""
    kind = doc.get("kind", "regular")
    if kind not in ("regular", "off_cycle"):
        raise PayrollRefusal(422, "kind: regular or off_cycle", "kind")
    code = doc.get("schedule")
    if not isinstance(code, str):
        raise PayrollRefusal(422, "schedule: the pay schedule's code", "schedule")
    schedule = await load_schedule(conn, code)
    run_id = f"PR-{uuid.uuid4().hex[:16]}"
    adjustments: list[dict[str, Any]] = []
    corrects = doc.get("corrects_run_id")
    if corrects is not None and (not isinstance(corrects, str) or len(corrects) > 64):
        raise PayrollRefusal(422, "corrects_run_id: the id of a posted run", "corrects_run_id")
    if kind == "regular":
        day = _date(doc.get("period_start"), "period_start")
        try:
            period = period_of(schedule, day)
        except ValueError as exc:  # no bank holidays for the pay date's year
            raise PayrollRefusal(409, str(exc), "period_start") from None
        if period.start != day:
            raise PayrollRefusal(422, f"period_start: {day} does not start a period of "
                                      f"{code} (that period starts {period.start})",
                                 "period_start")
        start, end, pay_date = period.start, period.end, period.pay_date
        if end >= today:
            raise PayrollRefusal(409, f"the period {start}..{end} of {code} has not ended in "
                                      "every store yet: a regular run pays an ended period",
                                 "period_start")
        regular_key: str | None = f"{code}:{start.isoformat()}"
        held = (await conn.execute(sa.select(pay_runs.c.run_id, pay_runs.c.status).where(
            pay_runs.c.regular_key == regular_key))).first()
        if held is not None:
            raise PayrollRefusal(409, f"the period {start}..{end} of {code} already has run "
                                      f"{held.run_id} ({held.status}); a correction is an "
                                      "off-cycle run", run_id=held.run_id)
    else:
        pay_date = _date(doc.get("pay_date"), "pay_date")
        start = end = pay_date
        regular_key = None
        if corrects is not None:
            row = (await conn.execute(sa.select(pay_runs.c.status).where(
                pay_runs.c.run_id == corrects))).first()
            if row is None or row.status != "posted":
                raise PayrollRefusal(422, "corrects_run_id: a posted run", "corrects_run_id")
        adjustments = _adjustments(doc.get("earnings"))
    computed = await compute_run(conn, ctx, run_id, schedule, start, end, pay_date, kind,
                                 adjustments)
    await conn.execute(pay_runs.insert().values(
        run_id=run_id, schedule_code=code, period_start=start, period_end=end,
        pay_date=pay_date, kind=kind, regular_key=regular_key, corrects_run_id=corrects,
        status="draft", totals={**run_totals(computed), "adjustments": adjustments},
        created_by=who, created_at=datetime.now(UTC)))
    await _store_rows(conn, computed)
    return run_id


async def _store_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 500):
        await conn.execute(paychecks.insert(), rows[start:start + 500])


def _adjustments(items: object) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        raise PayrollRefusal(422, "earnings: a list of {employee_id, code, amount}", "earnings")
    from sync.errors import InvalidAmount
    from sync.money import parse_amount

    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("employee_id"), str):
            raise PayrollRefusal(422, f"earnings[{index}].employee_id: required", "earnings")
        code = item.get("code", "adjustment")
        if not isinstance(code, str) or not code.isidentifier() or len(code) > 32:
            raise PayrollRefusal(422, f"earnings[{index}].code: a short name", "earnings")
        try:
            amount = parse_amount(item.get("amount"), 2, field=f"earnings[{index}].amount")
        except InvalidAmount as exc:
            raise PayrollRefusal(422, str(exc), "earnings") from None
        if amount <= 0:
            raise PayrollRefusal(422, f"earnings[{index}].amount: more than zero", "earnings")
        out.append({"employee_id": item["employee_id"], "code": code, "amount_minor": amount})
    return out


def _date(value: object, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PayrollRefusal(422, f"{name}: a date YYYY-MM-DD", name) from None


async def load_run(conn: AsyncConnection, run_id: str, lock: bool = False) -> Any:
    query = sa.select(pay_runs).where(pay_runs.c.run_id == run_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise PayrollRefusal(404, f"no pay run {run_id}")
    return row


async def recompute_run(conn: AsyncConnection, ctx: PayrollContext, run_id: str) -> None:
    run = await load_run(conn, run_id, lock=True)
    if run.status != "draft":
        raise PayrollRefusal(409, f"pay run {run_id} is {run.status}: only a draft is "
                                  "recomputed")
    computed = await _recompute(conn, ctx, run)
    await conn.execute(paychecks.delete().where(paychecks.c.run_id == run_id))
    await _store_rows(conn, computed)
    await conn.execute(pay_runs.update().where(pay_runs.c.run_id == run_id).values(
        totals={**run_totals(computed), "adjustments": run.totals.get("adjustments", [])}))


async def _recompute(conn: AsyncConnection, ctx: PayrollContext,
                     run: Any) -> list[dict[str, Any]]:
    schedule = await load_schedule(conn, run.schedule_code)
    return await compute_run(conn, ctx, run.run_id, schedule, run.period_start,
                             run.period_end, run.pay_date, run.kind,
                             run.totals.get("adjustments", []))


_COMPARED = ("employee_id", "store_id", "pay_date", "gross_minor", "income_tax_wages_minor",
             "ss_wages_minor", "medicare_wages_minor", "futa_wages_minor", "income_tax_minor",
             "ss_employee_minor", "medicare_employee_minor", "ss_employer_minor",
             "medicare_employer_minor", "futa_employer_minor", "deductions", "net_minor")


async def approve_run(conn: AsyncConnection, ctx: PayrollContext, run_id: str,
                      who: str) -> None:
    run = await load_run(conn, run_id, lock=True)
    if run.status != "draft":
        raise PayrollRefusal(409, f"pay run {run_id} is already {run.status}")
    computed = await _recompute(conn, ctx, run)
    stored = [[getattr(r, c) for c in _COMPARED] for r in await conn.execute(
        sa.select(paychecks).where(paychecks.c.run_id == run_id)
        .order_by(paychecks.c.employee_id))]
    fresh = sorted(([r[c] for c in _COMPARED] for r in computed), key=lambda r: r[0])
    if stored != fresh:
        raise PayrollRefusal(409, f"the figures of pay run {run_id} changed since its preview "
                                  "(timesheets, rates or earlier runs): recompute it "
                                  f"(POST /api/v1/payroll/runs/{run_id}/recompute) and "
                                  "review it again")
    await conn.execute(pay_runs.update().where(pay_runs.c.run_id == run_id).values(
        status="approved", approved_by=who, approved_at=datetime.now(UTC)))


async def post_run(conn: AsyncConnection, ctx: PayrollContext, run_id: str,
                   who: str) -> list[str]:
    """Post an approved run's journal (one entry per store); returns the entry keys."""
    run = await load_run(conn, run_id, lock=True)
    if run.status != "approved":
        raise PayrollRefusal(409, f"pay run {run_id} is {run.status}: only an approved run "
                                  "is posted")
    rows = await conn.execute(sa.select(paychecks).where(paychecks.c.run_id == run_id))
    drafts = payroll_drafts(run_id, run.pay_date, [figures_of_row(r) for r in rows],
                            ctx.chart, ctx.currency)
    await write_entries(conn, drafts, created_by=who)
    await conn.execute(pay_runs.update().where(pay_runs.c.run_id == run_id).values(
        status="posted", posted_by=who, posted_at=datetime.now(UTC)))
    return [d.key for d in drafts]
