"""Social Security, Medicare (with the Additional Medicare Tax) and FUTA for one paycheck,
from the year-to-date wages already paid. Pure, in integer cents, each tax rounded to the
cent half up on the paycheck.

- Social Security: 6.2 % of wages up to the year's wage base, employee and employer alike;
  wages past the base in the year owe none (the base is tracked across runs by the caller's
  year-to-date figures).
- Medicare: 1.45 % of all wages, employee and employer; the employee also owes 0.9 % on the
  part of the year's wages past $200,000 (withheld from the paycheck in which wages cross the
  threshold onwards; the employer does not match it).
- FUTA: 0.6 % (net of the state credit) of the first $7,000 of the year's wages, employer only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from server.payroll.tax_year import TaxYear
from server.payroll.withholding import round_half_up


def percent_of(amount_cents: int, percent: Decimal) -> int:
    return round_half_up(amount_cents * Fraction(percent) / 100)


@dataclass(frozen=True, slots=True)
class TaxWagesToDate:
    """Wages subject to each tax paid earlier in the year, before this paycheck."""

    social_security: int = 0
    medicare: int = 0
    futa: int = 0


@dataclass(frozen=True, slots=True)
class PayrollTaxes:
    social_security_wages: int       # the part of this paycheck's wages under the base
    social_security_employee: int
    social_security_employer: int
    medicare_wages: int
    medicare_employee: int           # 1.45 % plus the Additional Medicare Tax
    additional_medicare_wages: int   # the part of the wages past the threshold
    medicare_employer: int
    futa_wages: int
    futa_employer: int


def payroll_taxes(social_security_wages: int, medicare_wages: int, futa_wages: int,
                  to_date: TaxWagesToDate, year: TaxYear) -> PayrollTaxes:
    """The taxes on this paycheck's taxable wages (each after the pre-tax deductions that
    reduce it)."""
    for name, value in (("social_security_wages", social_security_wages),
                        ("medicare_wages", medicare_wages), ("futa_wages", futa_wages)):
        if value < 0:
            raise ValueError(f"{name} cannot be negative")
    ss_room = max(year.social_security_wage_base_cents - to_date.social_security, 0)
    ss_wages = min(social_security_wages, ss_room)
    ss = percent_of(ss_wages, year.social_security_percent)
    threshold = year.additional_medicare_threshold_cents
    over_before = max(to_date.medicare - threshold, 0)
    over_after = max(to_date.medicare + medicare_wages - threshold, 0)
    additional_wages = over_after - over_before
    medicare = percent_of(medicare_wages, year.medicare_percent)
    additional = percent_of(additional_wages, year.additional_medicare_percent)
    futa_room = max(year.futa_wage_base_cents - to_date.futa, 0)
    futa_wages_now = min(futa_wages, futa_room)
    return PayrollTaxes(
        social_security_wages=ss_wages, social_security_employee=ss,
        social_security_employer=ss, medicare_wages=medicare_wages,
        medicare_employee=medicare + additional, additional_medicare_wages=additional_wages,
        medicare_employer=medicare, futa_wages=futa_wages_now,
        futa_employer=percent_of(futa_wages_now, year.futa_percent))
