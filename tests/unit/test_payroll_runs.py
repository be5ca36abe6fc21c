"""The pure parts of a pay run: hourly earnings day by day at the rate in effect (overtime in
a week worked at several rates on the week's regular rate), salary prorated by calendar
days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from server.payroll.overtime import load_overtime_rules, split_workweek
from server.payroll.runs import Profile, hourly_earnings, salary_earnings
from server.payroll.schedule import PaySchedule
from server.payroll.timekeeping import PayrollRefusal
from server.payroll.withholding import W4

SCHEDULE = PaySchedule("BW", "biweekly", date(2026, 11, 16))


def profile(*rates: tuple[date, int], pay_type: str = "hourly") -> Profile:
    return Profile("E1", "Ann", pay_type, "S001", SCHEDULE, W4(), rates, ())


def test_a_salary_is_the_years_share_per_period() -> None:
    # 52,000.00 a year over 26 periods: 2,000.00
    full = salary_earnings(profile((date(2026, 1, 1), 52_000_00), pay_type="salaried"),
                           date(2026, 11, 16), date(2026, 11, 29), 26)
    assert [e.amount for e in full] == [2_000_00]


def test_a_salary_starting_inside_the_period_is_prorated_by_days() -> None:
    # hired on the 11th day of 14: 4 days paid: 2,000 x 4 / 14 = 571.428... -> 571.43
    start = salary_earnings(profile((date(2026, 11, 26), 52_000_00), pay_type="salaried"),
                            date(2026, 11, 16), date(2026, 11, 29), 26)
    assert [e.amount for e in start] == [571_43]
    # a raise to 78,000 on day 8: 7/14 of 2,000 + 7/14 of 3,000 = 2,500
    raised = salary_earnings(profile((date(2026, 1, 1), 52_000_00),
                                     (date(2026, 11, 23), 78_000_00), pay_type="salaried"),
                             date(2026, 11, 16), date(2026, 11, 29), 26)
    assert [e.amount for e in raised] == [2_500_00]


def test_hours_are_paid_at_the_rate_in_effect_each_day() -> None:
    days = {date(2026, 11, 20): {Decimal(1): 480, Decimal("1.5"): 60},
            date(2026, 11, 23): {Decimal(1): 480},
            date(2026, 12, 1): {Decimal(1): 480}}  # outside the period: not paid here
    weeks = [{day: split} for day, split in days.items()]  # Friday, then Monday: two weeks
    earnings = hourly_earnings(profile((date(2026, 1, 1), 20_00), (date(2026, 11, 23), 22_00)),
                               weeks, date(2026, 11, 16), date(2026, 11, 29))
    assert [(e.code, e.minutes, e.rate, e.amount) for e in earnings] == [
        ("regular", 480, 20_00, 160_00), ("regular", 480, 22_00, 176_00),
        ("overtime", 60, 20_00, 30_00)]


def test_time_without_a_rate_is_refused() -> None:
    with pytest.raises(PayrollRefusal, match="no pay rate"):
        hourly_earnings(profile((date(2026, 12, 1), 20_00)),
                        [{date(2026, 11, 20): {Decimal(1): 60}}], date(2026, 11, 16),
                        date(2026, 11, 29))


def test_overtime_in_a_week_worked_at_two_rates_is_on_the_weeks_regular_rate() -> None:
    """29 CFR 778.115: California, a raise from 20.00 to 22.00 an hour on Tuesday; Monday's
    10 hours hold 2 of daily overtime. Straight time 10 h x 20.00 + 32 h x 22.00 = 904.00
    over 42 h: a regular rate of 21.5238... The 2 overtime hours earn 2 x 20.00 + 2 x 0.5 x
    21.5238... = 61.52 (1.5 x Monday's 20.00 alone would be 60.00: 1.52 short)."""
    rules = load_overtime_rules().for_location("CA")
    monday = date(2026, 11, 16)
    week = split_workweek({monday: 600, **{monday + timedelta(days=n): 480
                                           for n in range(1, 5)}}, rules).by_day
    raised = profile((date(2026, 1, 1), 20_00), (date(2026, 11, 17), 22_00))
    earnings = hourly_earnings(raised, [week], date(2026, 11, 16), date(2026, 11, 29))
    assert [(e.code, e.minutes, e.rate, e.amount) for e in earnings] == [
        ("regular", 480, 20_00, 160_00), ("regular", 1920, 22_00, 704_00),
        ("overtime", 120, None, 61_52)]
    # Only the period's days are paid, but the regular rate is the whole week's.
    first_days = hourly_earnings(raised, [week], date(2026, 11, 1), date(2026, 11, 16))
    assert [(e.code, e.minutes, e.amount) for e in first_days] == [
        ("regular", 480, 160_00), ("overtime", 120, 61_52)]


def test_overtime_in_a_week_at_one_rate_is_that_rate_times_the_multiplier() -> None:
    """FLSA: 45 hours at 20.00 in one week, 5 of them overtime: 40 x 20.00 + 5 x 30.00."""
    rules = load_overtime_rules().for_location("TX")
    monday = date(2026, 11, 16)
    week = split_workweek({monday + timedelta(days=n): 540 for n in range(5)}, rules).by_day
    earnings = hourly_earnings(profile((date(2026, 1, 1), 20_00)), [week], monday,
                               monday + timedelta(days=13))
    assert [(e.code, e.minutes, e.rate, e.amount) for e in earnings] == [
        ("regular", 2400, 20_00, 800_00), ("overtime", 300, 20_00, 150_00)]


def test_overtime_on_the_higher_paid_days_is_also_on_the_weeks_regular_rate() -> None:
    """FLSA, 9 h a day Monday to Friday, 20.00 then 22.00 from Wednesday: straight time
    18 h x 20.00 + 27 h x 22.00 = 954.00 over 45 h, a regular rate of 21.20. Friday's 5 h
    of overtime: 5 x 22.00 + 5 x 0.5 x 21.20 = 163.00 (1.5 x 22.00 would be 165.00: the law's
    method pays less here, as it allows)."""
    rules = load_overtime_rules().for_location("TX")
    monday = date(2026, 11, 16)
    week = split_workweek({monday + timedelta(days=n): 540 for n in range(5)}, rules).by_day
    raised = profile((date(2026, 1, 1), 20_00), (date(2026, 11, 18), 22_00))
    earnings = hourly_earnings(raised, [week], monday, monday + timedelta(days=13))
    assert [(e.code, e.minutes, e.rate, e.amount) for e in earnings] == [
        ("regular", 1080, 20_00, 360_00), ("regular", 1320, 22_00, 484_00),
        ("overtime", 300, None, 163_00)]


def test_double_time_in_a_blended_week_adds_a_whole_regular_rate() -> None:
    """California, 13 h on Monday at 20.00 (8 straight, 4 at 1.5, 1 at 2), 8 h Tuesday to
    Thursday at 22.00: 788.00 over 37 h = 21.2973... an hour. Overtime 4 x 20.00 + 4 x 0.5 x
    21.2973 = 122.59; double time 20.00 + 21.2973 = 41.30."""
    rules = load_overtime_rules().for_location("CA")
    monday = date(2026, 11, 16)
    week = split_workweek({monday: 780, **{monday + timedelta(days=n): 480
                                           for n in range(1, 4)}}, rules).by_day
    raised = profile((date(2026, 1, 1), 20_00), (date(2026, 11, 17), 22_00))
    earnings = hourly_earnings(raised, [week], monday, monday + timedelta(days=13))
    assert [(e.code, e.minutes, e.rate, e.amount) for e in earnings] == [
        ("regular", 480, 20_00, 160_00), ("regular", 1440, 22_00, 528_00),
        ("overtime", 240, None, 122_59), ("double_time", 60, None, 41_30)]


def test_a_day_without_a_rate_in_the_same_week_but_another_period_is_refused() -> None:
    """The week's regular rate needs every worked day's rate, even a day the run does not
    pay (the week straddles two periods)."""
    week = {date(2026, 11, 15): {Decimal(1): 480}, date(2026, 11, 16): {Decimal(1): 480}}
    with pytest.raises(PayrollRefusal, match=r"2026-11-15.*in this period or not"):
        hourly_earnings(profile((date(2026, 11, 16), 20_00)), [week], date(2026, 11, 16),
                        date(2026, 11, 29))
