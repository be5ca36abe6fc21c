"""Time: ``time.punched`` events → shifts → minutes per workday and workweek. Pure.

Punches are read per employee and store in time order (the store agent keeps a clock state
per store): ``in`` opens a shift, ``break_start``/``break_end`` bracket an unpaid break,
``out`` closes it. Durations are differences of UTC instants, so a shift across midnight or a
daylight-saving change counts the hours really worked; the *workday* a shift belongs to is the
calendar date, in the store's IANA time zone, on which it started.

What cannot be paired becomes an exception a manager resolves (a correction: never an edit
of the punches): an ``in`` while a shift is open (the open shift lacks its ``out``), an
``out`` or ``break_end`` with nothing open, a shift still open at the end of the period, and
shifts of one employee that overlap (at two stores, or after a correction).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Punch:
    punch_id: str
    employee_id: str
    store_id: str
    action: str  # in, break_start, break_end, out
    at: datetime  # UTC, aware


@dataclass(frozen=True, slots=True)
class Shift:
    """One stretch of work. ``key`` is the id of the punch that opened it (or of the
    correction that added it)."""

    key: str
    employee_id: str
    store_id: str
    start: datetime
    end: datetime | None
    break_minutes: int = 0
    problems: tuple[str, ...] = ()
    punch_ids: tuple[str, ...] = ()
    corrected_by: str | None = None  # the correction that set its times, if any

    def worked_minutes(self) -> int:
        """Whole minutes worked (seconds are dropped once, at the shift's total)."""
        if self.end is None:
            return 0
        seconds = int((self.end - self.start).total_seconds()) - self.break_minutes * 60
        return max(seconds // 60, 0)

    def workday(self, zone: ZoneInfo) -> date:
        return self.start.astimezone(zone).date()


@dataclass(frozen=True, slots=True)
class Correction:
    """A manager's change to the shifts (who, when and why are kept with it):
    ``set`` gives a shift (an existing key, or a new one) its start, end and breaks;
    ``void`` removes a shift (a punch made in error)."""

    correction_id: str
    shift_key: str
    action: str  # set, void
    employee_id: str
    store_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    break_minutes: int = 0


@dataclass
class _Open:
    key: str
    start: datetime
    punch_ids: list[str] = field(default_factory=list)
    break_started: datetime | None = None
    break_seconds: int = 0


def pair_punches(punches: Iterable[Punch]) -> list[Shift]:
    """Shifts from one employee's punches (any stores), problems noted on each."""
    by_store: dict[str, list[Punch]] = defaultdict(list)
    for p in punches:
        by_store[p.store_id].append(p)
    shifts: list[Shift] = []
    for store_punches in by_store.values():
        shifts += _pair_at_store(sorted(store_punches, key=lambda p: (p.at, p.punch_id)))
    return sorted(shifts, key=lambda s: (s.start, s.key))


def _closed(first: Punch, opened: _Open, end: datetime | None,
            problems: tuple[str, ...]) -> Shift:
    seconds = opened.break_seconds
    if opened.break_started is not None and end is not None:
        seconds += int((end - opened.break_started).total_seconds())
    return Shift(opened.key, first.employee_id, first.store_id, opened.start, end,
                 seconds // 60, problems, tuple(opened.punch_ids))


def _pair_at_store(punches: list[Punch]) -> list[Shift]:
    shifts: list[Shift] = []
    current: _Open | None = None
    for p in punches:
        if p.action == "in":
            if current is not None:
                shifts.append(_closed(p, current, None, ("missing_out",)))
            current = _Open(p.punch_id, p.at, [p.punch_id])
        elif current is None:
            shifts.append(Shift(p.punch_id, p.employee_id, p.store_id, p.at, None, 0,
                                (f"{p.action}_without_in",), (p.punch_id,)))
        elif p.action == "break_start":
            current.punch_ids.append(p.punch_id)
            if current.break_started is None:
                current.break_started = p.at
        elif p.action == "break_end":
            current.punch_ids.append(p.punch_id)
            if current.break_started is not None:
                current.break_seconds += int((p.at - current.break_started).total_seconds())
                current.break_started = None
        elif p.action == "out":
            current.punch_ids.append(p.punch_id)
            shifts.append(_closed(p, current, p.at, ()))
            current = None
    if current is not None:
        shifts.append(_closed(punches[-1], current, None, ("missing_out",)))
    return shifts


def apply_corrections(shifts: list[Shift], corrections: Iterable[Correction]) -> list[Shift]:
    """The shifts after the managers' corrections, in the order they were made. A set shift
    loses the problems of its punches (the manager has said what happened)."""
    by_key = {s.key: s for s in shifts}
    for c in corrections:
        if c.action == "void":
            by_key.pop(c.shift_key, None)
        elif c.action == "set":
            if c.start is None or c.end is None or c.end <= c.start:
                raise ValueError(f"correction {c.correction_id}: a shift ends after it starts")
            old = by_key.get(c.shift_key)
            store = c.store_id or (old.store_id if old else None)
            if store is None:
                raise ValueError(f"correction {c.correction_id}: a new shift needs a store")
            by_key[c.shift_key] = Shift(c.shift_key, c.employee_id, store, c.start, c.end,
                                        c.break_minutes, (), old.punch_ids if old else (),
                                        c.correction_id)
        else:
            raise ValueError(f"correction {c.correction_id}: unknown action {c.action!r}")
    return mark_overlaps(sorted(by_key.values(), key=lambda s: (s.start, s.key)))


def mark_overlaps(shifts: list[Shift]) -> list[Shift]:
    """Shifts (of one employee, sorted by start) that overlap another get ``overlap``."""
    flagged: set[str] = set()
    latest: Shift | None = None
    for shift in shifts:
        if shift.end is None:
            continue
        if latest is not None and latest.end is not None and shift.start < latest.end:
            flagged.update((latest.key, shift.key))
        if latest is None or (latest.end is not None and shift.end > latest.end):
            latest = shift
    return [replace(s, problems=tuple(dict.fromkeys((*s.problems, "overlap"))))
            if s.key in flagged else s for s in shifts]


def workweek_start(day: date, first_weekday: str) -> date:
    """The first day of the workweek holding ``day`` (the employer's workweek starts on
    ``first_weekday``)."""
    offset = (day.weekday() - WEEKDAYS.index(first_weekday)) % 7
    return day - timedelta(days=offset)


def minutes_by_workday(shifts: Iterable[Shift], zones: dict[str, ZoneInfo]) -> dict[date, int]:
    """Worked minutes per workday of the shifts without problems."""
    out: dict[date, int] = defaultdict(int)
    for shift in shifts:
        if shift.problems or shift.end is None:
            continue
        out[shift.workday(zones[shift.store_id])] += shift.worked_minutes()
    return dict(out)
