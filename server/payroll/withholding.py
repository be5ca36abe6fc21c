"""Federal income tax withholding by IRS Publication 15-T, Worksheet 1A (percentage method
tables for automated payroll systems, Form W-4 from 2020 or later). Pure, in integer cents.

Every line of the worksheet is kept in :class:`Worksheet1A`, so a pay stub or an auditor can
follow the arithmetic. Amounts the worksheet divides by the number of pay periods (the
tentative withholding and the Step 3 credits) are rounded to the cent, half up; nothing else
is rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from server.payroll.tax_year import FILING_STATUSES, Bracket, TaxYear
from sync.errors import InvalidAmount
from sync.money import format_minor, parse_amount


class W4Error(ValueError):
    """A Form W-4 that cannot be: ``field`` names the entry, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class W4:
    """The figures of a 2020-or-later Form W-4 that withholding uses (annual amounts, cents;
    ``extra_withholding`` is per pay period)."""

    filing_status: str = "single"  # single (or married filing separately), married_jointly,
    step2_checkbox: bool = False   # head_of_household
    dependents_credit: int = 0     # Step 3
    other_income: int = 0          # Step 4(a)
    deductions: int = 0            # Step 4(b)
    extra_withholding: int = 0     # Step 4(c)
    exempt: bool = False           # "Exempt" written below Step 4(c): no income tax withheld

    def __post_init__(self) -> None:
        if self.filing_status not in FILING_STATUSES:
            raise W4Error("filing_status", f"must be one of {', '.join(FILING_STATUSES)}")
        for name in ("dependents_credit", "other_income", "deductions", "extra_withholding"):
            value = getattr(self, name)
            if type(value) is not int:
                raise W4Error(name, "must be a whole number of cents")
            if value < 0:
                raise W4Error(name, "cannot be negative")
            if value > 100_000_000_00:
                raise W4Error(name, "is more than $100,000,000: check the form")
        if self.dependents_credit % 100:
            raise W4Error("dependents_credit", "Step 3 is a whole-dollar amount on the form")

    @classmethod
    def from_document(cls, doc: Any) -> W4:
        """From the JSON the API takes: dollar amounts as decimal strings."""
        if not isinstance(doc, dict):
            raise W4Error("w4", "must be an object")
        unknown = set(doc) - {"filing_status", "step2_checkbox", "dependents_credit",
                              "other_income", "deductions", "extra_withholding", "exempt"}
        if unknown:
            raise W4Error(sorted(unknown)[0], "is not a Form W-4 field")
        for flag in ("step2_checkbox", "exempt"):
            if flag in doc and not isinstance(doc[flag], bool):
                raise W4Error(flag, "must be true or false")
        return cls(filing_status=doc.get("filing_status", "single"),
                   step2_checkbox=bool(doc.get("step2_checkbox", False)),
                   exempt=bool(doc.get("exempt", False)),
                   **{name: _dollars(doc.get(name, "0"), name)
                      for name in ("dependents_credit", "other_income", "deductions",
                                   "extra_withholding")})

    def to_document(self) -> dict[str, Any]:
        return {"filing_status": self.filing_status, "step2_checkbox": self.step2_checkbox,
                "dependents_credit": format_minor(self.dependents_credit, 2),
                "other_income": format_minor(self.other_income, 2),
                "deductions": format_minor(self.deductions, 2),
                "extra_withholding": format_minor(self.extra_withholding, 2),
                "exempt": self.exempt}


def _dollars(text: object, field: str) -> int:
    try:
        return parse_amount(text, 2, field=field)
    except InvalidAmount as exc:
        raise W4Error(field, str(exc).removeprefix(f"{field}: ")) from None


@dataclass(frozen=True, slots=True)
class Worksheet1A:
    """The lines of Worksheet 1A, in cents (1b a count, 2c a percentage)."""

    line_1a: int
    line_1b: int
    line_1c: int
    line_1d: int
    line_1e: int
    line_1f: int
    line_1g: int
    line_1h: int
    line_1i: int  # adjusted annual wage amount
    line_2a: int
    line_2b: int
    line_2c: Fraction
    line_2d: int
    line_2e: Fraction
    line_2f: Fraction
    line_2h: int  # tentative withholding amount
    line_3a: int
    line_3b: int
    line_3c: int
    line_4a: int
    line_4b: int  # the federal income tax to withhold

    @property
    def withholding(self) -> int:
        return self.line_4b


def round_half_up(value: Fraction) -> int:
    """The nearest whole cent, halves away from zero (amounts here are never negative)."""
    whole, rest = divmod(value.numerator, value.denominator)
    return whole + (1 if 2 * rest >= value.denominator else 0)


def bracket_for(table: tuple[Bracket, ...], annual_cents: int) -> Bracket:
    """The row whose "at least" is the largest not above the wages."""
    chosen = table[0]
    for row in table:
        if annual_cents >= row.floor_cents:
            chosen = row
        else:
            break
    return chosen


def worksheet_1a(wages_cents: int, frequency: str, w4: W4, tables: TaxYear) -> Worksheet1A:
    """Withholding for ``wages_cents`` of taxable wages in one pay period of ``frequency``."""
    if wages_cents < 0:
        raise ValueError("taxable wages cannot be negative")
    periods = tables.pay_periods[frequency]
    annual = wages_cents * periods
    line_1e = annual + w4.other_income
    line_1g = 0 if w4.step2_checkbox else tables.line_1g_cents[w4.filing_status]
    line_1h = w4.deductions + line_1g
    adjusted = max(line_1e - line_1h, 0)
    table = (tables.step2_checkbox if w4.step2_checkbox else tables.standard)[w4.filing_status]
    row = bracket_for(table, adjusted)
    rate = Fraction(row.percent) / 100
    line_2d = adjusted - row.floor_cents
    line_2e = line_2d * rate
    line_2f = row.base_cents + line_2e
    tentative = round_half_up(line_2f / periods)
    credits = round_half_up(Fraction(w4.dependents_credit, periods))
    after_credits = max(tentative - credits, 0)
    withhold = 0 if w4.exempt else after_credits + w4.extra_withholding
    return Worksheet1A(
        line_1a=wages_cents, line_1b=periods, line_1c=annual, line_1d=w4.other_income,
        line_1e=line_1e, line_1f=w4.deductions, line_1g=line_1g, line_1h=line_1h,
        line_1i=adjusted, line_2a=row.floor_cents, line_2b=row.base_cents,
        line_2c=Fraction(row.percent), line_2d=line_2d, line_2e=line_2e, line_2f=line_2f,
        line_2h=tentative, line_3a=w4.dependents_credit, line_3b=credits,
        line_3c=after_credits, line_4a=w4.extra_withholding, line_4b=withhold)
