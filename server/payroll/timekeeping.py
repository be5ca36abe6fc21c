"""Timesheets from the database: the punches the stores synced (``time_punches``), the
managers' corrections, the stores' time zones and the overtime rule set of each employee's
work location → shifts, exceptions and each workweek's minutes per multiplier. Closing a
week stores its figures; approving one locks them (later punches or corrections cannot
change what a pay run pays).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.payroll.overtime import OvertimeRules, WorkweekSplit, split_workweek
from server.payroll.shifts import (
    Correction,
    Punch,
    Shift,
    apply_corrections,
    minutes_by_workday,
    pair_punches,
    workweek_start,
)
from server.storage.bulk import replace_rows
from server.storage.tables import employee_pay, stores, time_corrections, time_punches, timesheets


class PayrollRefusal(Exception):
    """Input payroll refuses, with the status an API answers and the field at fault."""

    def __init__(self, status: int, detail: str, field: str | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field, self.extra = status, detail, field, extra


def today_everywhere(now: datetime) -> date:
    """The calendar date in the westernmost time zone (UTC-12): a day before it has ended in
    every store, wherever it is. Weeks and pay periods count as ended against this date, so
    a week is never approved (and locked) while a store behind UTC is still in it."""
    return (now.astimezone(UTC) - timedelta(hours=12)).date()


def parse_instant(text: str) -> datetime:
    """A punch's ``recorded_at`` (ISO 8601, ``Z``) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


async def store_zones(conn: AsyncConnection) -> dict[str, ZoneInfo]:
    return {r.store_id: ZoneInfo(r.timezone)
            for r in await conn.execute(sa.select(stores.c.store_id, stores.c.timezone))}


@dataclass(frozen=True, slots=True)
class Week:
    """One employee's workweek as it stands (or as approved)."""

    employee_id: str
    week_start: date
    rule_set: str
    shifts: tuple[Shift, ...]
    split: WorkweekSplit
    exceptions: tuple[dict[str, Any], ...]
    status: str  # open, closed, approved
    approved_by: str | None = None
    approved_at: datetime | None = None

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


def _shift_doc(shift: Shift, zones: dict[str, ZoneInfo]) -> dict[str, Any]:
    zone = zones.get(shift.store_id, ZoneInfo("UTC"))
    return {"key": shift.key, "store_id": shift.store_id,
            "start": shift.start.isoformat(), "end": shift.end.isoformat() if shift.end else None,
            "workday": shift.workday(zone).isoformat(), "break_minutes": shift.break_minutes,
            "worked_minutes": shift.worked_minutes(), "problems": list(shift.problems),
            "punch_ids": list(shift.punch_ids), "corrected_by": shift.corrected_by}


def split_doc(split: WorkweekSplit) -> dict[str, Any]:
    return {"by_multiplier": {str(k): v for k, v in sorted(split.by_multiplier.items())},
            "by_day": {d.isoformat(): {str(k): v for k, v in sorted(m.items())}
                       for d, m in sorted(split.by_day.items())}}


def split_from_doc(doc: dict[str, Any]) -> WorkweekSplit:
    return WorkweekSplit({Decimal(k): int(v) for k, v in doc["by_multiplier"].items()},
                         {date.fromisoformat(d): {Decimal(k): int(v) for k, v in m.items()}
                          for d, m in doc["by_day"].items()})


def of_employees(column: sa.ColumnElement[Any], employee_ids: Sequence[str] | None
                 ) -> sa.ColumnElement[bool]:
    """``column`` among ``employee_ids`` (anything when None). A long list becomes its id
    range — one range scan of an index led by the employee id, where a list of hundreds
    of ids is a slow filter — so callers keep only the rows of listed ids."""
    if employee_ids is None:
        return sa.true()
    if len(employee_ids) > 50:
        return column.between(min(employee_ids), max(employee_ids))
    return column.in_(sorted(employee_ids))


async def _punches(conn: AsyncConnection, employee_ids: Sequence[str] | None,
                   start: datetime, end: datetime) -> dict[str, list[Punch]]:
    """The punches of ``employee_ids`` (all when None) recorded in [start, end). A long list
    is read as its id range (one range scan of the (employee, time) index rather than one
    probe per id, or a scan of every punch per chunk) and filtered here."""
    query = sa.select(time_punches.c.punch_id, time_punches.c.employee_id,
                      time_punches.c.store_id, time_punches.c.action,
                      time_punches.c.recorded_at).where(
        time_punches.c.recorded_at >= _text(start), time_punches.c.recorded_at < _text(end))
    wanted: set[str] | None = None
    if employee_ids is not None:
        if not employee_ids:
            return {}
        wanted = set(employee_ids)
        query = query.where(of_employees(time_punches.c.employee_id, employee_ids))
    out: dict[str, list[Punch]] = defaultdict(list)
    for punch_id, employee_id, store_id, action, recorded_at in await _tuples(conn, query):
        if wanted is None or employee_id in wanted:
            out[employee_id].append(Punch(punch_id, employee_id, store_id, action,
                                          parse_instant(recorded_at)))
    return out


async def _tuples(conn: AsyncConnection, query: sa.Select[Any]) -> Sequence[Sequence[Any]]:
    """The rows of a query of plain columns (text, numbers). On PostgreSQL straight from
    asyncpg's records, without SQLAlchemy's per-row result machinery: a period's punches are
    hundreds of thousands of rows."""
    if conn.dialect.name != "postgresql":
        result: Sequence[Sequence[Any]] = (await conn.execute(query)).all()
        return result
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = await conn.get_raw_connection()
    names = list(compiled.positiontup or ())
    values = [compiled.params[name] for name in names]
    rows: Sequence[Sequence[Any]] = await raw.driver_connection.fetch(  # type: ignore[union-attr]
        str(compiled), *values)
    return rows


async def _corrections(conn: AsyncConnection, employee_ids: Sequence[str] | None,
                       start: datetime, end: datetime) -> dict[str, list[Correction]]:
    query = sa.select(time_corrections).where(
        of_employees(time_corrections.c.employee_id, employee_ids)).order_by(
        time_corrections.c.made_at, time_corrections.c.correction_id)
    wanted = None if employee_ids is None else set(employee_ids)
    out: dict[str, list[Correction]] = defaultdict(list)
    for r in await conn.execute(query):
        if wanted is not None and r.employee_id not in wanted:
            continue
        out[r.employee_id].append(Correction(
            r.correction_id, r.shift_key, r.action, r.employee_id, r.store_id,
            _aware(r.start_at), _aware(r.end_at), int(r.break_minutes)))
    return out


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


CHUNK = 500  # employees whose punches are in memory at once


def _window(first: date, last: date, first_weekday: str) -> tuple[datetime, datetime]:
    """The instants whose punches can belong to the workweeks of ``first``..``last``: from a
    day before the first week (a shift started late on its last evening in a zone behind
    UTC) to two days after the last (a night shift's "out")."""
    start_week = workweek_start(first, first_weekday)
    end_week = workweek_start(last, first_weekday)
    return (datetime.combine(start_week - timedelta(days=1), datetime.min.time(), UTC),
            datetime.combine(end_week + timedelta(days=9), datetime.min.time(), UTC))


async def employees_with_time_or_pay(conn: AsyncConnection, first: date, last: date,
                                     first_weekday: str) -> list[str]:
    since, until = _window(first, last, first_weekday)
    ids = {r[0] for r in await conn.execute(sa.select(time_punches.c.employee_id).distinct()
                                            .where(time_punches.c.recorded_at >= _text(since),
                                                   time_punches.c.recorded_at < _text(until)))}
    ids |= {r[0] for r in await conn.execute(sa.select(employee_pay.c.employee_id))}
    ids |= {r[0] for r in await conn.execute(
        sa.select(time_corrections.c.employee_id).distinct())}
    return sorted(ids)


def _text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


async def weeks_in_chunks(conn: AsyncConnection, employee_ids: Sequence[str] | None,
                          first: date, last: date, rules: OvertimeRules, first_weekday: str,
                          chunk: int = CHUNK) -> AsyncIterator[dict[tuple[str, date], Week]]:
    """:func:`weeks_for` a few hundred employees at a time (all when ``employee_ids`` is None),
    so memory holds one chunk's punches, whatever the number of employees."""
    zones = await store_zones(conn)
    ids = list(employee_ids) if employee_ids is not None else \
        await employees_with_time_or_pay(conn, first, last, first_weekday)
    for start in range(0, len(ids), chunk):
        yield await weeks_for(conn, ids[start:start + chunk], first, last, rules,
                              first_weekday, zones)


async def weeks_for(conn: AsyncConnection, employee_ids: Sequence[str] | None, first: date,
                    last: date, rules: OvertimeRules, first_weekday: str,
                    zones: dict[str, ZoneInfo] | None = None) -> dict[tuple[str, date], Week]:
    """Every workweek touching ``first``..``last`` of the employees (all with a pay profile
    when None): approved weeks as approved, the others computed from punches now."""
    start_week = workweek_start(first, first_weekday)
    end_week = workweek_start(last, first_weekday)
    zones = zones if zones is not None else await store_zones(conn)
    since, until = _window(first, last, first_weekday)
    wanted = None if employee_ids is None else set(employee_ids)
    profiles = {r.employee_id: r.work_state for r in await conn.execute(
        sa.select(employee_pay.c.employee_id, employee_pay.c.work_state).where(
            of_employees(employee_pay.c.employee_id, employee_ids)))
        if wanted is None or r.employee_id in wanted}
    stored = {(r.employee_id, r.week_start): r for r in await conn.execute(
        sa.select(timesheets).where(of_employees(timesheets.c.employee_id, employee_ids),
                                    timesheets.c.week_start >= start_week,
                                    timesheets.c.week_start <= end_week))
        if wanted is None or r.employee_id in wanted}
    # Employees whose every workweek here is approved need no punches: their weeks are locked.
    week_count = (end_week - start_week).days // 7 + 1
    approved: dict[str, int] = defaultdict(int)
    for (employee_id, _), sheet in stored.items():
        if sheet.status == "approved":
            approved[employee_id] += 1
    locked = {e for e, n in approved.items() if n == week_count}
    unlocked = None if employee_ids is None else [e for e in employee_ids if e not in locked]
    punches = await _punches(conn, unlocked, since, until)
    for employee_id in locked:
        punches.pop(employee_id, None)
    corrections = await _corrections(conn, employee_ids, since, until)
    weeks: dict[tuple[str, date], Week] = {}
    for employee_id in sorted(set(punches) | set(corrections) | set(profiles)):
        rule_set = rules.for_location(profiles.get(employee_id))
        shifts = [] if employee_id in locked else apply_corrections(
            pair_punches(punches.get(employee_id, [])), corrections.get(employee_id, []))
        by_week: dict[date, list[Shift]] = defaultdict(list)
        for shift in shifts:
            zone = zones.get(shift.store_id, ZoneInfo("UTC"))
            by_week[workweek_start(shift.workday(zone), first_weekday)].append(shift)
        week = start_week
        while week <= end_week:
            row = stored.get((employee_id, week))
            week_shifts = tuple(by_week.get(week, ()))
            if row is not None and row.status == "approved":
                weeks[(employee_id, week)] = Week(
                    employee_id, week, row.rule_set, week_shifts,
                    split_from_doc(row.minutes), tuple(row.exceptions), "approved",
                    row.approved_by, _aware(row.approved_at))
            elif week_shifts:
                minutes = minutes_by_workday(week_shifts, zones)
                split = split_workweek(minutes, rule_set)
                exceptions = tuple({"shift_key": s.key, "store_id": s.store_id,
                                    "start": s.start.isoformat(), "problems": list(s.problems)}
                                   for s in week_shifts if s.problems)
                weeks[(employee_id, week)] = Week(
                    employee_id, week, rule_set.code, week_shifts, split, exceptions,
                    "closed" if row is not None else "open")
            week += timedelta(days=7)
    return weeks


def week_doc(week: Week, zones: dict[str, ZoneInfo]) -> dict[str, Any]:
    return {"employee_id": week.employee_id, "week_start": week.week_start.isoformat(),
            "week_end": week.week_end.isoformat(), "status": week.status,
            "rule_set": week.rule_set, "worked_minutes": week.split.worked,
            "minutes": split_doc(week.split), "exceptions": list(week.exceptions),
            "shifts": [_shift_doc(s, zones) for s in week.shifts],
            "approved_by": week.approved_by,
            "approved_at": week.approved_at.isoformat() if week.approved_at else None}


async def close_weeks(conn: AsyncConnection, rules: OvertimeRules, first_weekday: str,
                      today: date, lookback_weeks: int = 2) -> int:
    """Store (or refresh) the figures of the workweeks that ended before ``today`` in the
    last ``lookback_weeks`` and are not approved: ready for managers to approve."""
    last_ended = workweek_start(today, first_weekday) - timedelta(days=1)
    first = last_ended - timedelta(days=7 * lookback_weeks - 1)
    now = datetime.now(UTC)
    # closed rows are refreshed (the figures may have changed since), approved ones stay
    await conn.execute(timesheets.delete().where(
        timesheets.c.week_start >= workweek_start(first, first_weekday),
        timesheets.c.week_start <= workweek_start(last_ended, first_weekday),
        timesheets.c.status == "closed"))
    closed = 0
    async for weeks in weeks_in_chunks(conn, None, first, last_ended, rules, first_weekday):
        rows = [{"employee_id": employee_id, "week_start": week_start, "status": "closed",
                 "rule_set": week.rule_set, "worked_minutes": week.split.worked,
                 "minutes": split_doc(week.split), "exceptions": list(week.exceptions),
                 "closed_at": now, "approved_by": None, "approved_at": None}
                for (employee_id, week_start), week in sorted(weeks.items())
                if week.status != "approved" and week.week_end < today]
        await _insert_sheets(conn, rows)
        closed += len(rows)
    return closed


async def _insert_sheets(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        await conn.execute(timesheets.insert(), rows[start:start + 1000])


async def approve_week(conn: AsyncConnection, employee_id: str, week_start: date,
                       rules: OvertimeRules, first_weekday: str, who: str,
                       today: date) -> Week:
    if workweek_start(week_start, first_weekday) != week_start:
        raise PayrollRefusal(422, f"{week_start} is not the first day of a workweek (the "
                                  f"workweek starts on {first_weekday})", "week_start")
    if week_start + timedelta(days=7) > today:
        raise PayrollRefusal(409, f"the workweek of {week_start} has not ended yet")
    weeks = await weeks_for(conn, [employee_id], week_start, week_start, rules, first_weekday)
    week = weeks.get((employee_id, week_start))
    if week is None:
        raise PayrollRefusal(404, f"{employee_id} has no time in the workweek of {week_start}")
    if week.status == "approved":
        raise PayrollRefusal(409, f"the timesheet of {employee_id} for the week of "
                                  f"{week_start} is already approved (locked)")
    if week.exceptions:
        raise PayrollRefusal(409, f"{len(week.exceptions)} shift(s) need a correction before "
                                  "approval", exceptions=list(week.exceptions))
    now = datetime.now(UTC)
    values = {"status": "approved", "rule_set": week.rule_set,
              "worked_minutes": week.split.worked, "minutes": split_doc(week.split),
              "exceptions": [], "closed_at": now, "approved_by": who, "approved_at": now}
    updated = await conn.execute(timesheets.update().where(
        timesheets.c.employee_id == employee_id, timesheets.c.week_start == week_start,
        timesheets.c.status != "approved").values(**values))
    if not updated.rowcount:
        await conn.execute(timesheets.insert().values(employee_id=employee_id,
                                                      week_start=week_start, **values))
    return Week(employee_id, week_start, week.rule_set, week.shifts, week.split, (),
                "approved", who, now)


async def approve_clean_weeks(conn: AsyncConnection, week_start: date,
                              employee_ids: Sequence[str] | None, rules: OvertimeRules,
                              first_weekday: str, who: str,
                              today: date) -> tuple[list[str], list[dict[str, Any]]]:
    """Approve, in one go, every timesheet of the workweek without exceptions (of the listed
    employees, or all): (approved employee ids, the timesheets left with exceptions)."""
    if workweek_start(week_start, first_weekday) != week_start:
        raise PayrollRefusal(422, f"{week_start} is not the first day of a workweek (the "
                                  f"workweek starts on {first_weekday})", "week_start")
    if week_start + timedelta(days=7) > today:
        raise PayrollRefusal(409, f"the workweek of {week_start} has not ended yet")
    now = datetime.now(UTC)
    approved: list[str] = []
    left: list[dict[str, Any]] = []
    async for weeks in weeks_in_chunks(conn, employee_ids, week_start, week_start, rules,
                                       first_weekday):
        rows: list[dict[str, Any]] = []
        for (employee_id, _), week in sorted(weeks.items()):
            if week.status == "approved" or not week.shifts:
                continue
            if week.exceptions:
                left.append({"employee_id": employee_id, "exceptions": list(week.exceptions)})
                continue
            rows.append({"employee_id": employee_id, "week_start": week_start,
                         "status": "approved", "rule_set": week.rule_set,
                         "worked_minutes": week.split.worked,
                         "minutes": split_doc(week.split), "exceptions": [],
                         "closed_at": now, "approved_by": who, "approved_at": now})
        # an approved row takes the place of a closed one (never of an approved one: those
        # weeks were skipped above)
        await replace_rows(conn, timesheets, ("employee_id", "week_start"), rows)
        approved += [r["employee_id"] for r in rows]
    return approved, left


async def correct_shift(conn: AsyncConnection, doc: dict[str, Any], rules: OvertimeRules,
                        first_weekday: str, who: str) -> dict[str, Any]:
    """A manager's correction: set a shift's times (an existing one by its key, or a new one)
    or void one; refused for a shift in an approved week. Returns the audit record."""
    employee_id, action = doc.get("employee_id"), doc.get("action")
    reason = doc.get("reason")
    if not isinstance(employee_id, str) or not employee_id:
        raise PayrollRefusal(422, "employee_id: required", "employee_id")
    if action not in ("set", "void"):
        raise PayrollRefusal(422, "action: set or void", "action")
    if not isinstance(reason, str) or not reason.strip():
        raise PayrollRefusal(422, "reason: say why the shift is corrected", "reason")
    shift_key = doc.get("shift_key") or f"manual-{uuid.uuid4().hex[:16]}"
    if not isinstance(shift_key, str) or len(shift_key) > 64:
        raise PayrollRefusal(422, "shift_key: the key of the shift (at most 64 characters)",
                             "shift_key")
    start = end = None
    breaks = doc.get("break_minutes", 0)
    if action == "set":
        try:
            start, end = (_instant(doc.get(name), name) for name in ("start", "end"))
        except ValueError as exc:
            raise PayrollRefusal(422, str(exc), str(exc).split(":")[0]) from None
        if end <= start or end - start > timedelta(hours=24):
            raise PayrollRefusal(422, "end: after start, and a shift lasts at most 24 hours",
                                 "end")
        if type(breaks) is not int or breaks < 0 or breaks * 60 >= (end - start).total_seconds():
            raise PayrollRefusal(422, "break_minutes: whole minutes, shorter than the shift",
                                 "break_minutes")
    store_id = doc.get("store_id")
    zones = await store_zones(conn)
    if store_id is not None and (not isinstance(store_id, str) or store_id not in zones):
        raise PayrollRefusal(422, f"store_id: no store {store_id!r}", "store_id")
    # the weeks the change touches, before and after: none may be approved
    # the shift as it stands, found by its key wherever it is (not near the new times)
    around = await _shift_time(conn, employee_id, shift_key)
    before: Shift | None = None
    if around is not None:
        weeks = await weeks_for(conn, [employee_id], around.date() - timedelta(days=8),
                                around.date() + timedelta(days=8), rules, first_weekday,
                                zones)
        before = next((s for w in weeks.values() for s in w.shifts if s.key == shift_key),
                      None)
    if action == "void" and before is None:
        raise PayrollRefusal(404, f"no shift {shift_key} of {employee_id}", "shift_key")
    if before is None and store_id is None:
        raise PayrollRefusal(422, "store_id: a new shift needs its store", "store_id")
    touched = []
    if before is not None:
        touched.append(before.workday(zones[before.store_id]))
    if start is not None:
        touched.append(start.astimezone(zones[store_id or before.store_id]).date()  # type: ignore[union-attr]
                       )
    for day in touched:
        week_start = workweek_start(day, first_weekday)
        row = (await conn.execute(sa.select(timesheets.c.status).where(
            timesheets.c.employee_id == employee_id,
            timesheets.c.week_start == week_start))).first()
        if row is not None and row.status == "approved":
            raise PayrollRefusal(409, f"the timesheet for the week of {week_start} is "
                                      "approved: locked against corrections")
    correction_id = f"C-{uuid.uuid4().hex[:20]}"
    after = None if action == "void" else {
        "key": shift_key, "store_id": store_id or (before.store_id if before else None),
        "start": start.isoformat() if start else None, "end": end.isoformat() if end else None,
        "break_minutes": breaks}
    record = {"correction_id": correction_id, "employee_id": employee_id,
              "shift_key": shift_key, "action": action, "store_id": store_id,
              "start_at": start, "end_at": end,
              "break_minutes": breaks if action == "set" else 0, "reason": reason.strip()[:500],
              "made_by": who, "made_at": datetime.now(UTC),
              "before": _shift_doc(before, zones) if before else None, "after": after}
    await conn.execute(time_corrections.insert().values(**record))
    return record


async def _shift_time(conn: AsyncConnection, employee_id: str,
                      shift_key: str) -> datetime | None:
    """When the shift ``shift_key`` started: its opening punch, or its last correction."""
    punch = (await conn.execute(sa.select(time_punches.c.recorded_at).where(
        time_punches.c.punch_id == shift_key,
        time_punches.c.employee_id == employee_id))).first()
    if punch is not None:
        return parse_instant(punch.recorded_at)
    corrected = (await conn.execute(sa.select(time_corrections.c.start_at).where(
        time_corrections.c.shift_key == shift_key, time_corrections.c.employee_id == employee_id,
        time_corrections.c.start_at.is_not(None))
        .order_by(time_corrections.c.made_at.desc()).limit(1))).first()
    return _aware(corrected.start_at) if corrected is not None else None


def _instant(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name}: an ISO 8601 instant with its offset, e.g. "
                         "2026-11-16T09:00:00-08:00")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name}: give the offset (e.g. -08:00 or Z)")
    return moment.astimezone(UTC)
