"""The pure parts of a pay run: hourly earnings day by day at the rate in effect, salary
prorated by calendar days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

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
    earnings = hourly_earnings(profile((date(2026, 1, 1), 20_00), (date(2026, 11, 23), 22_00)),
                               days, date(2026, 11, 16), date(2026, 11, 29))
    assert [(e.code, e.minutes, e.rate, e.amount) for e in earnings] == [
        ("regular", 480, 20_00, 160_00), ("regular", 480, 22_00, 176_00),
        ("overtime", 60, 20_00, 30_00)]


def test_time_without_a_rate_is_refused() -> None:
    with pytest.raises(PayrollRefusal, match="no pay rate"):
        hourly_earnings(profile((date(2026, 12, 1), 20_00)),
                        {date(2026, 11, 20): {Decimal(1): 60}}, date(2026, 11, 16),
                        date(2026, 11, 29))
