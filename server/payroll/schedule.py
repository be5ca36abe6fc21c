"""Pay schedules: the pay periods of weekly, biweekly, semimonthly and monthly schedules and
their pay dates. Pure apart from reading the holiday files.

A weekly or biweekly schedule is anchored on the first day of one of its periods; a
semimonthly one pays the 1st-15th and the 16th-last; a monthly one the calendar month. The pay
date is the period's last day plus the schedule's lag in days; on a weekend or a bank holiday
(``config/payroll/holidays/YEAR.toml``) it moves to the business day before, so pay is never
late.
"""

from __future__ import annotations

import calendar
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from server.payroll.tax_year import FREQUENCIES

HOLIDAY_DIR = Path(__file__).resolve().parents[2] / "config" / "payroll" / "holidays"


@dataclass(frozen=True, slots=True)
class PaySchedule:
    code: str
    frequency: str
    anchor: date  # the first day of a period (weekly, biweekly); unused otherwise
    pay_lag_days: int = 5

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}")
        if not 0 <= self.pay_lag_days <= 31:
            raise ValueError("pay_lag_days must be between 0 and 31")


@dataclass(frozen=True, slots=True)
class PayPeriod:
    start: date
    end: date  # inclusive
    pay_date: date

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def period_bounds(schedule: PaySchedule, day: date) -> tuple[date, date]:
    """The first and last day of the period holding ``day``."""
    if schedule.frequency in ("weekly", "biweekly"):
        length = 7 if schedule.frequency == "weekly" else 14
        start = schedule.anchor + timedelta(days=((day - schedule.anchor).days // length)
                                            * length)
        return start, start + timedelta(days=length - 1)
    last = calendar.monthrange(day.year, day.month)[1]
    if schedule.frequency == "monthly":
        return day.replace(day=1), day.replace(day=last)
    if day.day <= 15:
        return day.replace(day=1), day.replace(day=15)
    return day.replace(day=16), day.replace(day=last)


def period_of(schedule: PaySchedule, day: date) -> PayPeriod:
    start, end = period_bounds(schedule, day)
    return PayPeriod(start, end, pay_date(end + timedelta(days=schedule.pay_lag_days)))


def next_period(schedule: PaySchedule, period: PayPeriod) -> PayPeriod:
    return period_of(schedule, period.end + timedelta(days=1))


@lru_cache(maxsize=16)
def bank_holidays(year: int, directory: Path = HOLIDAY_DIR) -> frozenset[date]:
    path = directory / f"{year}.toml"
    if not path.is_file():
        raise ValueError(f"no bank holidays for {year}: add {path.name} to {directory}")
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return frozenset(entry["date"] for entry in data.get("holidays", ()))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def pay_date(day: date) -> date:
    """``day``, or the last business day before it."""
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day
