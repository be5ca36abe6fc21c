"""Federal income tax withheld from supplemental wages — what an off-cycle run pays: a
bonus, back pay, a missed overtime hour — by IRS Publication 15 (2026), section 7. Pure, in
integer cents.

- The part of the year's supplemental wages past $1,000,000: the mandatory flat rate (37 %),
  whatever the employee's Form W-4 says.
- The rest, if income tax was withheld from the employee's regular wages this calendar year
  or the one before: the optional flat rate (22 %), the Form W-4 not used.
- Otherwise the aggregate method: the supplemental wages are added to the regular wages of
  the employee's most recent pay period this year and to the supplemental wages paid since,
  the withholding is figured on the total as one payment (Worksheet 1A), and what was
  withheld from those payments is subtracted.
- An employee whose Form W-4 claims exemption has nothing withheld, but for the mandatory
  rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.payroll.tax_year import TaxYear
from server.payroll.taxes import percent_of
from server.payroll.withholding import W4, Worksheet1A, worksheet_1a

FLAT = "supplemental: optional flat rate"
AGGREGATE = "supplemental: aggregate method"
MANDATORY = "supplemental: mandatory flat rate"
EXEMPT = "supplemental: exempt (Form W-4)"


@dataclass(frozen=True, slots=True)
class SupplementalHistory:
    """What the method depends on, from the employee's earlier paychecks."""

    withheld_from_regular: bool  # income tax withheld from regular wages this year or last
    supplemental_to_date: int = 0  # supplemental income-tax wages paid earlier this year
    # Income-tax wages of the latest regular paycheck this year and of the supplemental
    # payments since it, and the income tax withheld from them: what the aggregate adds to.
    aggregate_wages: int = 0
    aggregate_tax: int = 0


@dataclass(frozen=True, slots=True)
class SupplementalTax:
    amount: int
    method: str
    sheet: Worksheet1A | None  # the aggregate method's worksheet


def supplemental_withholding(wages: int, frequency: str, w4: W4, year: TaxYear,
                             history: SupplementalHistory) -> SupplementalTax:
    """Income tax to withhold from ``wages`` cents of supplemental income-tax wages."""
    if wages < 0:
        raise ValueError("taxable wages cannot be negative")
    past = history.supplemental_to_date + wages - year.supplemental_mandatory_over_cents
    mandatory_wages = min(max(past, 0), wages)
    mandatory = percent_of(mandatory_wages, year.supplemental_mandatory_percent)
    rest = wages - mandatory_wages
    methods = [MANDATORY] if mandatory_wages else []
    sheet = None
    if rest and w4.exempt:
        tax = 0
        methods.insert(0, EXEMPT)
    elif rest and history.withheld_from_regular:
        tax = percent_of(rest, year.supplemental_percent)
        methods.insert(0, FLAT)
    elif rest:
        sheet = worksheet_1a(history.aggregate_wages + rest, frequency, w4, year)
        tax = max(sheet.withholding - history.aggregate_tax, 0)
        methods.insert(0, AGGREGATE)
    else:
        tax = 0
    return SupplementalTax(mandatory + tax, "; ".join(methods) or FLAT, sheet)
