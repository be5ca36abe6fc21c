"""One employee's paycheck: gross → pre-tax deductions → federal income tax (Worksheet 1A) →
Social Security and Medicare → post-tax deductions → net, with the employer's taxes. Pure,
in integer cents.

Order when the wages cannot cover everything (Publication 15: withhold Social Security and
Medicare first, then income tax as far as the wages go): Social Security and Medicare always
(pre-tax deductions that do not lower their wages, such as a 401(k), give way to them),
pre-tax deductions, federal income tax, then post-tax deductions in the employee's order;
what could not be taken is reported as a shortfall, never as a negative net.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from server.payroll.supplemental import (
    SupplementalHistory,
    supplemental_withholding,
)
from server.payroll.tax_year import TaxYear
from server.payroll.taxes import PayrollTaxes, TaxWagesToDate, payroll_taxes, percent_of
from server.payroll.withholding import W4, Worksheet1A, round_half_up, worksheet_1a

DEDUCTION_KINDS_FILE = Path(__file__).resolve().parents[2] / "config" / "payroll" / \
    "deductions.toml"
TAX_BASES = ("income_tax", "social_security", "medicare", "futa")


@dataclass(frozen=True, slots=True)
class DeductionKind:
    code: str
    name: str
    pre_tax: frozenset[str]  # which taxes' wages it reduces
    limit: str | None = None  # a key of the tax year's [limits]
    ccpa: str | None = None  # a garnishment the CCPA caps: "support" or "ordinary"


def load_deduction_kinds(path: Path = DEDUCTION_KINDS_FILE) -> dict[str, DeductionKind]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    kinds: dict[str, DeductionKind] = {}
    for code, spec in data.get("kinds", {}).items():
        bases = frozenset(spec.get("pre_tax", ()))
        if bases - set(TAX_BASES):
            raise ValueError(f"{path.name}: kinds.{code}.pre_tax: unknown "
                             f"{sorted(bases - set(TAX_BASES))}")
        ccpa = spec.get("ccpa")
        if ccpa not in (None, *GARNISHMENT_CLASSES):
            raise ValueError(f"{path.name}: kinds.{code}.ccpa: one of "
                             f"{', '.join(GARNISHMENT_CLASSES)}")
        if ccpa and bases:
            raise ValueError(f"{path.name}: kinds.{code}: a garnishment is after tax")
        kinds[code] = DeductionKind(code, str(spec.get("name", code)), bases,
                                    spec.get("limit"), ccpa)
    return kinds


PERCENTAGE_METHOD = "percentage method: Worksheet 1A"


def deduction_order(kind: str, reference: str | None) -> tuple[str, str]:
    """Which order (or plan) a deduction belongs to: its annual cap and year to date are
    kept per kind and reference."""
    return (kind, reference or "")


GARNISHMENT_CLASSES = ("support", "ordinary")  # taken in this order, before other deductions


@dataclass(frozen=True, slots=True)
class Earning:
    code: str  # regular, overtime, double_time, salary, ...
    amount: int
    minutes: int | None = None  # hours worked, for hourly earnings
    rate: int | None = None  # cents per hour, before the multiplier
    multiplier: Decimal = Decimal(1)


def hourly_earning(code: str, minutes: int, rate_cents: int, multiplier: Decimal) -> Earning:
    """``minutes`` at ``rate_cents`` an hour × ``multiplier``, rounded to the cent half up."""
    amount = round_half_up(Fraction(minutes * rate_cents, 60) * Fraction(multiplier))
    return Earning(code, amount, minutes, rate_cents, multiplier)


@dataclass(frozen=True, slots=True)
class EmployeeDeduction:
    """A standing deduction: a fixed amount per paycheck or a percentage of gross, with an
    optional cap on what it takes in the year and an optional balance — the total an order
    is for (a garnishment's debt, a loan), taken over as many years as it takes."""

    kind: str
    amount: int | None = None
    percent: Decimal | None = None
    annual_cap: int | None = None
    reference: str | None = None  # which order: caps and balances are kept per reference
    balance: int | None = None

    @property
    def order(self) -> tuple[str, str]:
        return deduction_order(self.kind, self.reference)

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("a deduction is either an amount or a percentage of gross")
        if self.amount is not None and self.amount < 0:
            raise ValueError("a deduction amount cannot be negative")
        if self.percent is not None and not 0 <= self.percent <= 100:
            raise ValueError("a deduction percentage is between 0 and 100")
        if self.annual_cap is not None and self.annual_cap < 0:
            raise ValueError("an annual cap cannot be negative")
        if self.balance is not None and self.balance < 0:
            raise ValueError("a balance cannot be negative")


@dataclass(frozen=True, slots=True)
class YearToDate:
    """What earlier paychecks of the year already paid, withheld and deducted."""

    tax_wages: TaxWagesToDate = field(default_factory=TaxWagesToDate)
    by_order: dict[tuple[str, str], int] = field(default_factory=dict)  # deduction_order
    # What every earlier paycheck, of any year, took for the orders that have a balance.
    ever_by_order: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def deductions(self) -> dict[str, int]:
        """Per deduction kind (what the year's limits count)."""
        out: dict[str, int] = {}
        for (kind, _), amount in self.by_order.items():
            out[kind] = out.get(kind, 0) + amount
        return out


@dataclass(frozen=True, slots=True)
class DeductionTaken:
    kind: str
    name: str
    pre_tax: bool
    amount: int
    shortfall: int = 0  # what the wages could not cover
    reference: str | None = None
    balance_left: int | None = None  # of an order with a balance, after this paycheck

    @property
    def order(self) -> tuple[str, str]:
        return deduction_order(self.kind, self.reference)


@dataclass(frozen=True, slots=True)
class Paycheck:
    gross: int
    earnings: tuple[Earning, ...]
    pre_tax: tuple[DeductionTaken, ...]
    post_tax: tuple[DeductionTaken, ...]
    income_tax_wages: int
    income_tax: int
    income_tax_shortfall: int
    worksheet: Worksheet1A | None  # None for supplemental wages at a flat rate
    taxes: PayrollTaxes
    net: int
    income_tax_method: str = PERCENTAGE_METHOD

    @property
    def employee_taxes(self) -> int:
        return self.income_tax + self.taxes.social_security_employee + \
            self.taxes.medicare_employee

    @property
    def employer_taxes(self) -> int:
        return self.taxes.social_security_employer + self.taxes.medicare_employer + \
            self.taxes.futa_employer


def ccpa_garnishable(disposable: int, frequency: str, year: TaxYear) -> int:
    """What ordinary garnishments may take of ``disposable`` earnings (cents) paid at
    ``frequency``: the lesser of the year's percentage of them (rounded down: a legal
    maximum) and what they exceed the period's floor (30 × the federal minimum wage a
    week). 15 U.S.C. 1673(a)."""
    if disposable <= 0:
        return 0
    return max(0, min(_share(disposable, year.garnishment_percent),
                      disposable - year.garnishment_floor_cents[frequency]))


def ccpa_support(disposable: int, year: TaxYear) -> int:
    """What support orders may take of ``disposable`` earnings: the year's support
    percentage of them, rounded down. 15 U.S.C. 1673(b)(2)."""
    return _share(disposable, year.garnishment_support_percent) if disposable > 0 else 0


def _share(amount: int, percent: Decimal) -> int:
    share = amount * Fraction(percent) / 100
    return share.numerator // share.denominator


def compute_paycheck(earnings: list[Earning], deductions: list[EmployeeDeduction],
                     kinds: dict[str, DeductionKind], w4: W4, frequency: str,
                     year: TaxYear, to_date: YearToDate,
                     supplemental: SupplementalHistory | None = None) -> Paycheck:
    """One paycheck, gross to net. ``supplemental``: the earnings are supplemental wages
    (an off-cycle payment), withheld on as :mod:`server.payroll.supplemental` says."""
    gross = sum(e.amount for e in earnings)
    if gross < 0:
        raise ValueError("gross pay cannot be negative")
    limits = {"elective_deferral": year.elective_deferral_limit_cents}
    used_by_limit: dict[str, int] = {}
    for code, total in to_date.deductions.items():
        kind = kinds.get(code)
        if kind is not None and kind.limit:
            used_by_limit[kind.limit] = used_by_limit.get(kind.limit, 0) + total
    taken_by_order: dict[tuple[str, str], int] = {}

    def wanted(item: EmployeeDeduction, kind: DeductionKind) -> int:
        amount = item.amount if item.amount is not None else \
            percent_of(gross, item.percent or Decimal(0))
        if item.annual_cap is not None:
            so_far = to_date.by_order.get(item.order, 0) + taken_by_order.get(item.order, 0)
            amount = min(amount, max(item.annual_cap - so_far, 0))
        if item.balance is not None:
            amount = min(amount, max(balance_left(item), 0))
        if kind.limit:
            cap = limits.get(kind.limit)
            if cap is None:
                raise ValueError(f"deduction kind {kind.code}: no limit {kind.limit!r}")
            amount = min(amount, max(cap - used_by_limit.get(kind.limit, 0), 0))
        return amount

    def balance_left(item: EmployeeDeduction) -> int:
        return (item.balance or 0) - to_date.ever_by_order.get(item.order, 0) - \
            taken_by_order.get(item.order, 0)

    def take(item: EmployeeDeduction, available: int) -> DeductionTaken:
        kind = kinds.get(item.kind)
        if kind is None:
            raise ValueError(f"unknown deduction kind {item.kind!r}")
        amount = wanted(item, kind)
        got = min(amount, available)
        taken_by_order[item.order] = taken_by_order.get(item.order, 0) + got
        if kind.limit:
            used_by_limit[kind.limit] = used_by_limit.get(kind.limit, 0) + got
        return DeductionTaken(item.kind, kind.name, bool(kind.pre_tax), got, amount - got,
                              item.reference,
                              None if item.balance is None else max(balance_left(item), 0))

    pre: list[DeductionTaken] = []
    left = gross
    for item in deductions:
        if kinds.get(item.kind) is not None and kinds[item.kind].pre_tax:
            pre.append(take(item, left))
            left -= pre[-1].amount
    reduced = {base: sum(d.amount for d in pre if base in kinds[d.kind].pre_tax)
               for base in TAX_BASES}
    taxes = payroll_taxes(gross - reduced["social_security"], gross - reduced["medicare"],
                          gross - reduced["futa"], to_date.tax_wages, year)
    fica = taxes.social_security_employee + taxes.medicare_employee
    # Pre-tax deductions that leave Social Security and Medicare wages as they are (a
    # 401(k)) give way, last first, until those taxes fit: reducing them changes no FICA
    # wage, and with all of them gone the wages always cover FICA.
    for index in range(len(pre) - 1, -1, -1):
        if fica <= left:
            break
        taken = pre[index]
        if kinds[taken.kind].pre_tax & {"social_security", "medicare"}:
            continue
        give = min(taken.amount, fica - left)
        pre[index] = replace(taken, amount=taken.amount - give,
                             shortfall=taken.shortfall + give,
                             balance_left=None if taken.balance_left is None
                             else taken.balance_left + give)
        left += give
        taken_by_order[taken.order] -= give
        if kinds[taken.kind].limit:
            used_by_limit[kinds[taken.kind].limit or ""] -= give
    reduced["income_tax"] = sum(d.amount for d in pre if "income_tax" in kinds[d.kind].pre_tax)
    left -= fica
    income_tax_wages = gross - reduced["income_tax"]
    sheet: Worksheet1A | None
    if supplemental is None:
        sheet = worksheet_1a(income_tax_wages, frequency, w4, year)
        wanted_tax, method = sheet.withholding, PERCENTAGE_METHOD
    else:
        tax = supplemental_withholding(income_tax_wages, frequency, w4, year, supplemental)
        sheet, wanted_tax, method = tax.sheet, tax.amount, tax.method
    income_tax = min(wanted_tax, left)
    left -= income_tax
    # Garnishments first — support orders, then ordinary garnishments — then the voluntary
    # after-tax deductions, each group in the order listed. The CCPA caps garnishments by the
    # disposable earnings: gross less what the law requires withheld (voluntary deductions,
    # pre-tax or not, stay in). Support orders take up to their percentage; ordinary
    # garnishments what is left of theirs once support is taken (none if support took it
    # all). What a cap keeps back shows as the deduction's shortfall.
    disposable = gross - fica - income_tax
    room = {"support": ccpa_support(disposable, year),
            "ordinary": ccpa_garnishable(disposable, frequency, year)}
    post: list[DeductionTaken] = []
    for group in (*GARNISHMENT_CLASSES, None):
        for item in deductions:
            kind = kinds.get(item.kind)
            if kind is None:
                raise ValueError(f"unknown deduction kind {item.kind!r}")
            if kind.pre_tax or kind.ccpa != group:
                continue
            taken = take(item, left if group is None else min(left, room[group]))
            post.append(taken)
            left -= taken.amount
            if group == "support":
                room["ordinary"] = max(room["ordinary"] - taken.amount, 0)
            if group is not None:
                room[group] -= taken.amount
    return Paycheck(gross=gross, earnings=tuple(earnings), pre_tax=tuple(pre),
                    post_tax=tuple(post), income_tax_wages=income_tax_wages,
                    income_tax=income_tax, income_tax_shortfall=wanted_tax - income_tax,
                    worksheet=sheet, taxes=taxes, net=left, income_tax_method=method)
