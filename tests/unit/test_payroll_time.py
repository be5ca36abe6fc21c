"""Punches to shifts (time zones, midnight, DST, exceptions, corrections), overtime rule
sets, pay periods and pay dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.payroll.overtime import load_overtime_rules, split_workweek
from server.payroll.schedule import PaySchedule, next_period, pay_date, period_of
from server.payroll.shifts import (
    Correction,
    Punch,
    apply_corrections,
    minutes_by_workday,
    pair_punches,
    workweek_start,
)

LA = ZoneInfo("America/Los_Angeles")
RULES = load_overtime_rules()
MONDAY = date(2026, 11, 16)


def local(y: int, mo: int, d: int, h: int, mi: int = 0, zone: ZoneInfo = LA) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)


def punches(*spec: tuple[str, datetime], store: str = "S1", employee: str = "E1") -> list[Punch]:
    return [Punch(f"{store}-{n}", employee, store, action, at)
            for n, (action, at) in enumerate(spec)]


def test_a_shift_with_a_break() -> None:
    [shift] = pair_punches(punches(("in", local(2026, 11, 16, 9)),
                                   ("break_start", local(2026, 11, 16, 12)),
                                   ("break_end", local(2026, 11, 16, 12, 30)),
                                   ("out", local(2026, 11, 16, 17, 30))))
    assert shift.problems == () and shift.break_minutes == 30
    assert shift.worked_minutes() == 8 * 60


def test_a_shift_across_midnight_belongs_to_the_day_it_started() -> None:
    shifts = pair_punches(punches(("in", local(2026, 11, 20, 22)),
                                  ("out", local(2026, 11, 21, 6))))
    assert minutes_by_workday(shifts, {"S1": LA}) == {date(2026, 11, 20): 8 * 60}


def test_a_night_shift_across_the_spring_forward_counts_real_hours() -> None:
    # 2026-03-08 02:00 PST becomes 03:00 PDT: 22:00 to 06:00 on the clock is 7 hours
    shifts = pair_punches(punches(("in", local(2026, 3, 7, 22)), ("out", local(2026, 3, 8, 6))))
    assert shifts[0].worked_minutes() == 7 * 60


def test_a_night_shift_across_the_fall_back_counts_real_hours() -> None:
    # 2026-11-01 02:00 PDT becomes 01:00 PST: 22:00 to 06:00 on the clock is 9 hours
    start = datetime(2026, 10, 31, 22, tzinfo=LA).astimezone(UTC)
    end = datetime(2026, 11, 1, 6, tzinfo=LA).astimezone(UTC)
    assert pair_punches(punches(("in", start), ("out", end)))[0].worked_minutes() == 9 * 60


def test_unpaired_punches_become_exceptions_and_count_nothing() -> None:
    shifts = pair_punches(punches(("in", local(2026, 11, 16, 9)),
                                  ("in", local(2026, 11, 17, 9)),
                                  ("out", local(2026, 11, 17, 17)),
                                  ("out", local(2026, 11, 17, 18)),
                                  ("in", local(2026, 11, 18, 9))))
    problems = [s.problems for s in shifts]
    assert problems == [("missing_out",), (), ("out_without_in",), ("missing_out",)]
    assert minutes_by_workday(shifts, {"S1": LA}) == {date(2026, 11, 17): 8 * 60}


def test_overlapping_shifts_at_two_stores_are_both_flagged() -> None:
    shifts = pair_punches([
        *punches(("in", local(2026, 11, 16, 9)), ("out", local(2026, 11, 16, 17)), store="S1"),
        *punches(("in", local(2026, 11, 16, 16)), ("out", local(2026, 11, 16, 20)),
                 store="S2")])
    flagged = apply_corrections(shifts, [])
    assert [s.problems for s in flagged] == [("overlap",), ("overlap",)]


def test_a_correction_resolves_a_missing_out_without_touching_the_punch() -> None:
    shifts = pair_punches(punches(("in", local(2026, 11, 16, 9))))
    assert shifts[0].problems == ("missing_out",)
    fixed = apply_corrections(shifts, [Correction("C1", "S1-0", "set", "E1",
                                                  start=local(2026, 11, 16, 9),
                                                  end=local(2026, 11, 16, 15))])
    assert fixed[0].problems == () and fixed[0].worked_minutes() == 360
    assert fixed[0].punch_ids == ("S1-0",) and fixed[0].corrected_by == "C1"
    assert apply_corrections(shifts, [Correction("C2", "S1-0", "void", "E1")]) == []
    with pytest.raises(ValueError, match="ends after it starts"):
        apply_corrections(shifts, [Correction("C3", "S1-0", "set", "E1",
                                              start=local(2026, 11, 16, 9),
                                              end=local(2026, 11, 16, 8))])


def test_workweeks_start_on_the_employers_day() -> None:
    assert workweek_start(date(2026, 11, 19), "monday") == MONDAY
    assert workweek_start(date(2026, 11, 19), "sunday") == date(2026, 11, 15)
    assert workweek_start(date(2026, 11, 15), "monday") == date(2026, 11, 9)


def week(*hours: float) -> dict[date, int]:
    return {MONDAY + timedelta(days=n): int(h * 60) for n, h in enumerate(hours)}


def by(split: dict[Decimal, int]) -> dict[str, float]:
    return {str(k): v / 60 for k, v in sorted(split.items())}


def test_flsa_pays_past_40_hours_in_the_week() -> None:
    flsa = RULES.for_location("TX")
    assert by(split_workweek(week(10, 10, 10, 10, 5), flsa).by_multiplier) == \
        {"1": 40, "1.5": 5}
    assert by(split_workweek(week(12, 12, 12), flsa).by_multiplier) == {"1": 36}


def test_california_daily_overtime_and_double_time() -> None:
    ca = RULES.for_location("ca")
    # 13 h in a day: 8 straight, 4 at 1.5, 1 at 2
    assert by(split_workweek(week(13), ca).by_multiplier) == {"1": 8, "1.5": 4, "2": 1}
    # 5 x 9 h: 5 daily overtime hours, and 40 straight: none past 40 weekly
    assert by(split_workweek(week(9, 9, 9, 9, 9), ca).by_multiplier) == {"1": 40, "1.5": 5}
    # 6 x 8 h: 48 straight-time hours by the day, 8 past 40 move to 1.5 (no pyramiding)
    assert by(split_workweek(week(8, 8, 8, 8, 8, 8), ca).by_multiplier) == {"1": 40, "1.5": 8}


def test_california_seventh_consecutive_day() -> None:
    ca = RULES.for_location("CA")
    # 6 x 6 h then 10 h on the 7th day: its first 8 h at 1.5, the last 2 at 2
    result = split_workweek(week(6, 6, 6, 6, 6, 6, 10), ca)
    assert by(result.by_multiplier) == {"1": 36, "1.5": 8, "2": 2}
    # a day off in the week: the 7th calendar day is an ordinary day
    assert by(split_workweek(week(6, 6, 0, 6, 6, 6, 10), ca).by_multiplier) == \
        {"1": 38, "1.5": 2}


@given(st.lists(st.integers(0, 16 * 60), min_size=1, max_size=7),
       st.sampled_from(["TX", "CA"]))
def test_regular_plus_overtime_is_always_the_hours_worked(minutes: list[int],
                                                          state: str) -> None:
    days = {MONDAY + timedelta(days=n): m for n, m in enumerate(minutes)}
    split = split_workweek(days, RULES.for_location(state))
    assert split.worked == sum(minutes)
    assert all(v > 0 for v in split.by_multiplier.values())
    assert split.by_multiplier.get(Decimal(1), 0) <= 40 * 60


def test_pay_periods_and_pay_dates() -> None:
    biweekly = PaySchedule("B", "biweekly", date(2026, 1, 12), pay_lag_days=5)
    period = period_of(biweekly, date(2026, 11, 20))
    assert (period.start, period.end) == (date(2026, 11, 16), date(2026, 11, 29))
    # 11-29 + 5 = 12-04, a Friday
    assert period.pay_date == date(2026, 12, 4)
    following = next_period(biweekly, period)
    assert following.start == date(2026, 11, 30)
    semi = PaySchedule("S", "semimonthly", date(2026, 1, 1), pay_lag_days=0)
    assert (period_of(semi, date(2026, 2, 20)).start, period_of(semi, date(2026, 2, 20)).end) \
        == (date(2026, 2, 16), date(2026, 2, 28))
    # 2026-02-28 is a Saturday: paid Friday the 27th
    assert period_of(semi, date(2026, 2, 20)).pay_date == date(2026, 2, 27)
    monthly = PaySchedule("M", "monthly", date(2026, 1, 1), pay_lag_days=0)
    assert period_of(monthly, date(2026, 5, 9)).end == date(2026, 5, 31)
    # 2026-05-31 is a Sunday, 05-29 a Friday
    assert period_of(monthly, date(2026, 5, 9)).pay_date == date(2026, 5, 29)


def test_a_pay_date_on_a_bank_holiday_moves_earlier() -> None:
    assert pay_date(date(2026, 11, 26)) == date(2026, 11, 25)  # Thanksgiving
    assert pay_date(date(2026, 9, 7)) == date(2026, 9, 4)  # Labor Day, back past a weekend
    assert pay_date(date(2026, 12, 25)) == date(2026, 12, 24)
    assert pay_date(date(2026, 7, 4)) == date(2026, 7, 3)  # Saturday; the Friday is open
    with pytest.raises(ValueError, match="no bank holidays for 2031"):
        pay_date(date(2031, 1, 1))


def test_a_schedule_refuses_an_unknown_frequency() -> None:
    with pytest.raises(ValueError, match="frequency"):
        PaySchedule("X", "fortnightly", date(2026, 1, 5))
