"""A paycheck from gross to net: deductions, FICA with year-to-date wage bases, FUTA."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.payroll.paycheck import (
    Earning,
    EmployeeDeduction,
    YearToDate,
    ccpa_garnishable,
    compute_paycheck,
    hourly_earning,
    load_deduction_kinds,
)
from server.payroll.supplemental import SupplementalHistory
from server.payroll.tax_year import load_tax_year
from server.payroll.taxes import TaxWagesToDate, payroll_taxes
from server.payroll.withholding import W4

YEAR = load_tax_year(2026)
KINDS = load_deduction_kinds()


def test_hourly_pay_rounds_once_per_line() -> None:
    # 7.5 h at 17.25 x 1.5 = 194.0625 -> 194.06
    assert hourly_earning("overtime", 450, 17_25, Decimal("1.5")).amount == 194_06
    assert hourly_earning("regular", 2400, 20_00, Decimal(1)).amount == 800_00


def test_a_worked_paycheck() -> None:
    """Biweekly, single, 80 h at $25 + 4 h overtime, 5% 401(k), $60 health premium, a $50
    garnishment: every figure by hand."""
    earnings = [hourly_earning("regular", 80 * 60, 25_00, Decimal(1)),
                hourly_earning("overtime", 4 * 60, 25_00, Decimal("1.5"))]
    deductions = [EmployeeDeduction("401k", percent=Decimal(5)),
                  EmployeeDeduction("health", amount=60_00),
                  EmployeeDeduction("garnishment", amount=50_00)]
    check = compute_paycheck(earnings, deductions, KINDS, W4(), "biweekly", YEAR, YearToDate())
    assert check.gross == 2150_00  # 2,000 + 150
    assert [d.amount for d in check.pre_tax] == [107_50, 60_00]  # 5% of 2,150; health
    # income tax wages 2,150 - 107.50 - 60 = 1,982.50; x 26 = 51,545 - 8,600 = 42,945;
    # 1,240 + 12% x (42,945 - 19,900) = 4,005.40 / 26 = 154.0538 -> 154.05
    assert check.income_tax_wages == 1982_50 and check.income_tax == 154_05
    # FICA wages 2,150 - 60 (health is section 125; the 401(k) is not excluded) = 2,090
    assert check.taxes.social_security_employee == 129_58  # 6.2% of 2,090
    assert check.taxes.medicare_employee == 30_31  # 1.45% of 2,090 = 30.305 -> 30.31
    assert check.taxes.futa_employer == 12_54  # 0.6% of 2,090
    assert [d.amount for d in check.post_tax] == [50_00]
    assert check.net == 2150_00 - 107_50 - 60_00 - 154_05 - 129_58 - 30_31 - 50_00


def test_social_security_stops_at_the_wage_base_across_runs() -> None:
    base = YEAR.social_security_wage_base_cents
    taxes = payroll_taxes(10_000_00, 10_000_00, 10_000_00,
                          TaxWagesToDate(base - 4_000_00, base - 4_000_00, 7_000_00), YEAR)
    assert taxes.social_security_wages == 4_000_00
    assert taxes.social_security_employee == 248_00 == taxes.social_security_employer
    assert taxes.futa_wages == 0 and taxes.futa_employer == 0
    after = payroll_taxes(5_000_00, 5_000_00, 0, TaxWagesToDate(base, base, 7_000_00), YEAR)
    assert after.social_security_employee == 0


def test_additional_medicare_from_the_paycheck_that_crosses_200000() -> None:
    taxes = payroll_taxes(10_000_00, 10_000_00, 0,
                          TaxWagesToDate(195_000_00, 195_000_00, 7_000_00), YEAR)
    assert taxes.additional_medicare_wages == 5_000_00
    assert taxes.medicare_employee == 145_00 + 45_00  # 1.45% of 10,000 + 0.9% of 5,000
    assert taxes.medicare_employer == 145_00  # no employer match


def test_the_401k_stops_at_the_years_limit() -> None:
    to_date = YearToDate(by_order={("401k", ""): 24_000_00})
    check = compute_paycheck([Earning("salary", 10_000_00)],
                             [EmployeeDeduction("401k", percent=Decimal(50))], KINDS, W4(),
                             "monthly", YEAR, to_date)
    assert check.pre_tax[0].amount == 500_00  # 24,500 - 24,000, not 5,000
    assert check.pre_tax[0].shortfall == 0


def test_a_garnishment_stops_at_its_balance_and_never_makes_net_negative() -> None:
    to_date = YearToDate(by_order={("garnishment", ""): 900_00})
    check = compute_paycheck([Earning("regular", 1_000_00)],
                             [EmployeeDeduction("garnishment", amount=5_000_00,
                                                annual_cap=1_000_00)],
                             KINDS, W4(), "weekly", YEAR, to_date)
    assert check.post_tax[0].amount == 100_00
    # an after-tax deduction the CCPA does not cover takes what is left, never more
    small = compute_paycheck([Earning("regular", 100_00)],
                             [EmployeeDeduction("other_after_tax", amount=5_000_00)],
                             KINDS, W4(extra_withholding=20_00), "weekly", YEAR, YearToDate())
    assert small.net == 0
    assert small.post_tax[0].shortfall > 0
    # a garnishment on pay under the CCPA's floor (217.50 a week) takes nothing at all
    floor = compute_paycheck([Earning("regular", 100_00)],
                             [EmployeeDeduction("garnishment", amount=5_000_00)],
                             KINDS, W4(), "weekly", YEAR, YearToDate())
    assert (floor.post_tax[0].amount, floor.post_tax[0].shortfall) == (0, 5_000_00)
    assert floor.net == 100_00 - floor.employee_taxes > 0


def test_two_orders_of_one_kind_keep_their_own_annual_caps() -> None:
    """Case A has 100.00 left of its 1,000.00 this year; case B 150.00 of 150.00 — each
    takes its own, however much the other took (2,000 biweekly: 422.71 garnishable)."""
    to_date = YearToDate(by_order={("garnishment", "case A"): 900_00})
    check = compute_paycheck([Earning("regular", 2_000_00)],
                             [EmployeeDeduction("garnishment", amount=300_00,
                                                annual_cap=1_000_00, reference="case A"),
                              EmployeeDeduction("garnishment", amount=300_00,
                                                annual_cap=150_00, reference="case B")],
                             KINDS, W4(), "biweekly", YEAR, to_date)
    assert [(d.reference, d.amount) for d in check.post_tax] == [("case A", 100_00),
                                                                 ("case B", 150_00)]


def test_a_balance_is_counted_over_every_year_and_an_annual_cap_over_this_one() -> None:
    """A 2,000.00 debt at 300.00 a paycheck, capped at 1,200.00 a year: 1,700.00 was taken
    before (1,100.00 of it last year, 600.00 this year) — the balance leaves 300.00, the cap
    600.00, so 300.00 is taken and nothing is left to pay. A paycheck past the balance takes
    nothing; the balance and what is left of it are per order."""
    order = ("garnishment", "case 7")
    debt = EmployeeDeduction("garnishment", amount=300_00, annual_cap=1_200_00,
                             reference="case 7", balance=2_000_00)
    other = EmployeeDeduction("garnishment", amount=40_00, reference="case 8",
                              balance=1_000_00)
    to_date = YearToDate(by_order={order: 600_00}, ever_by_order={order: 1_700_00})
    check = compute_paycheck([Earning("regular", 3_000_00)], [debt, other], KINDS, W4(),
                             "biweekly", YEAR, to_date)
    assert [(d.reference, d.amount, d.balance_left) for d in check.post_tax] == \
        [("case 7", 300_00, 0), ("case 8", 40_00, 960_00)]
    partly = YearToDate(by_order={order: 600_00}, ever_by_order={order: 1_850_00})
    check = compute_paycheck([Earning("regular", 3_000_00)], [debt], KINDS, W4(),
                             "biweekly", YEAR, partly)
    assert (check.post_tax[0].amount, check.post_tax[0].balance_left) == (150_00, 0)
    paid = YearToDate(ever_by_order={order: 2_000_00})
    check = compute_paycheck([Earning("regular", 3_000_00)], [debt], KINDS, W4(),
                             "biweekly", YEAR, paid)
    assert (check.post_tax[0].amount, check.post_tax[0].shortfall,
            check.post_tax[0].balance_left) == (0, 0, 0)
    # without a balance nothing is said about one
    plain = compute_paycheck([Earning("regular", 3_000_00)],
                             [EmployeeDeduction("garnishment", amount=10_00)], KINDS, W4(),
                             "biweekly", YEAR, YearToDate())
    assert plain.post_tax[0].balance_left is None
    with pytest.raises(ValueError, match="balance"):
        EmployeeDeduction("garnishment", amount=10_00, balance=-1)


def test_a_pre_tax_deduction_that_gives_way_owes_what_it_gave_back() -> None:
    """A pre-tax loan repayment the wages cannot carry beside FICA gives way; what it gave
    back stays owed."""
    loan = EmployeeDeduction("401k", amount=1_000_00, reference="loan 1", balance=5_000_00)
    check = compute_paycheck([Earning("regular", 1_000_00)], [loan], KINDS, W4(), "weekly",
                             YEAR, YearToDate())
    [taken] = check.pre_tax
    assert taken.amount < 1_000_00 and taken.shortfall > 0
    assert taken.balance_left == 5_000_00 - taken.amount


def test_garnishments_take_no_more_than_the_ccpa_allows() -> None:
    """15 U.S.C. 1673(a): the lesser of 25 % of disposable earnings and what they exceed
    30 x 7.25 a week (435.00 biweekly). Disposable = gross less income tax, Social Security
    and Medicare; a 401(k) or other voluntary deduction does not lower it."""
    order = [EmployeeDeduction("garnishment", amount=500_00)]
    # 600 biweekly: no income tax (600 x 26 - 8,600 = 7,000, under 7,500); FICA 37.20 +
    # 8.70; disposable 554.10; 25 % = 138.52, over the floor 119.10: 119.10.
    low = compute_paycheck([Earning("regular", 600_00)], order, KINDS, W4(), "biweekly", YEAR,
                           YearToDate())
    assert (low.income_tax, low.post_tax[0].amount, low.post_tax[0].shortfall) == \
        (0, 119_10, 380_90)
    # 2,000 biweekly with a 5 % 401(k): income tax on 1,900: 49,400 - 8,600 = 40,800;
    # 1,240 + 12 % x 20,900 = 3,748 / 26 = 144.15; FICA 124 + 29 on the whole 2,000;
    # disposable 2,000 - 144.15 - 153 = 1,702.85 (the 100 to the 401(k) stays in): 25 % is
    # 425.7125, rounded down 425.71, under 1,702.85 - 435.
    high = compute_paycheck([Earning("regular", 2_000_00)],
                            [EmployeeDeduction("401k", percent=Decimal(5)), *order],
                            KINDS, W4(), "biweekly", YEAR, YearToDate())
    assert high.income_tax == 144_15 and high.post_tax[0].amount == 425_71
    # Two garnishments share the one limit, in the order they are listed — and come before
    # a voluntary after-tax deduction listed first. 2,000 biweekly: income tax 52,000 -
    # 8,600 = 43,400: 1,240 + 12 % x 23,500 = 4,060 / 26 = 156.15; FICA 124 + 29;
    # disposable 1,690.85; 25 % = 422.71.
    both = compute_paycheck([Earning("regular", 2_000_00)],
                            [EmployeeDeduction("other_after_tax", amount=1_500_00),
                             EmployeeDeduction("garnishment", amount=300_00),
                             EmployeeDeduction("garnishment", amount=300_00)],
                            KINDS, W4(), "biweekly", YEAR, YearToDate())
    assert both.employee_taxes == 156_15 + 124_00 + 29_00
    assert [(d.kind, d.amount) for d in both.post_tax] == [
        ("garnishment", 300_00), ("garnishment", 122_71),
        ("other_after_tax", 2_000_00 - 309_15 - 422_71)]
    assert both.net == 0
    # At or under the floor nothing is garnishable, at any frequency.
    for frequency, floor in (("weekly", 217_50), ("biweekly", 435_00),
                             ("semimonthly", 471_25), ("monthly", 942_50)):
        assert ccpa_garnishable(floor, frequency, YEAR) == 0
        assert ccpa_garnishable(floor + 100, frequency, YEAR) == 100


def test_support_orders_come_first_and_leave_ordinary_garnishments_the_rest_of_25_percent(
        ) -> None:
    """15 U.S.C. 1673(b): support up to 50 % of disposable earnings (the default); an
    ordinary garnishment only within 25 % less what support took. Disposable 1,690.85 as
    above: support 300 leaves 122.71 for the garnishment; an order of 850 is cut to 50 %,
    845.42, and leaves none."""
    def check(support: int) -> list[tuple[str, int]]:
        paycheck = compute_paycheck([Earning("regular", 2_000_00)],
                                    [EmployeeDeduction("garnishment", amount=500_00),
                                     EmployeeDeduction("support_order", amount=support)],
                                    KINDS, W4(), "biweekly", YEAR, YearToDate())
        return [(d.kind, d.amount) for d in paycheck.post_tax]

    assert check(300_00) == [("support_order", 300_00), ("garnishment", 122_71)]
    assert check(850_00) == [("support_order", 845_42), ("garnishment", 0)]


def test_a_401k_larger_than_the_wages_gives_way_to_social_security_and_medicare() -> None:
    check = compute_paycheck([Earning("regular", 150_00)],
                             [EmployeeDeduction("401k", amount=200_00)], KINDS, W4(),
                             "weekly", YEAR, YearToDate())
    fica = check.taxes.social_security_employee + check.taxes.medicare_employee
    assert fica == 9_30 + 2_18  # 6.2% and 1.45% of 150: the 401(k) lowers no FICA wage
    assert check.pre_tax[0].amount == 150_00 - fica
    assert check.pre_tax[0].shortfall == 200_00 - check.pre_tax[0].amount
    assert check.income_tax_wages == fica and check.net == 0


def test_an_unknown_deduction_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown deduction kind"):
        compute_paycheck([Earning("regular", 100_00)], [EmployeeDeduction("yacht", amount=1)],
                         KINDS, W4(), "weekly", YEAR, YearToDate())


def test_a_deduction_is_an_amount_or_a_percentage() -> None:
    with pytest.raises(ValueError):
        EmployeeDeduction("health")
    with pytest.raises(ValueError):
        EmployeeDeduction("health", amount=-1)


deduction = st.one_of(
    st.builds(EmployeeDeduction, st.sampled_from(sorted(KINDS)),
              amount=st.integers(0, 2_000_00)),
    st.builds(EmployeeDeduction, st.sampled_from(sorted(KINDS)),
              percent=st.decimals(0, 30, places=2)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 20_000_00), min_size=1, max_size=3),
       st.lists(deduction, max_size=4),
       st.integers(0, 300_000_00), st.integers(0, 30_000_00),
       st.sampled_from(["single", "married_jointly", "head_of_household"]),
       st.booleans(), st.integers(0, 100_00),
       st.none() | st.builds(SupplementalHistory, st.booleans(), st.integers(0, 1_500_000_00),
                             st.integers(0, 10_000_00), st.integers(0, 2_000_00)))
def test_net_is_gross_less_everything_to_the_cent(
        amounts: list[int], deductions: list[EmployeeDeduction], wages_to_date: int,
        deducted_to_date: int, status: str, checkbox: bool, extra: int,
        supplemental: SupplementalHistory | None) -> None:
    """Regular paychecks and off-cycle ones (supplemental wages) alike."""
    to_date = YearToDate(TaxWagesToDate(wages_to_date, wages_to_date, min(wages_to_date,
                                                                          7_000_00)),
                         {("401k", ""): deducted_to_date})
    earnings = [Earning("regular", a) for a in amounts]
    check = compute_paycheck(earnings, deductions, KINDS,
                             W4(filing_status=status, step2_checkbox=checkbox,
                                extra_withholding=extra), "biweekly", YEAR, to_date,
                             supplemental)
    pre = sum(d.amount for d in check.pre_tax)
    post = sum(d.amount for d in check.post_tax)
    assert check.net == check.gross - pre - check.employee_taxes - post
    assert check.net >= 0
    garnished = sum(d.amount for d in check.post_tax if d.kind == "garnishment")
    disposable = check.gross - check.employee_taxes
    assert garnished <= ccpa_garnishable(disposable, "biweekly", YEAR) <= disposable // 4
    supported = sum(d.amount for d in check.post_tax if d.kind == "support_order")
    assert supported <= disposable // 2 and garnished + supported <= max(
        disposable // 2, 0)
    base = YEAR.social_security_wage_base_cents
    assert wages_to_date + check.taxes.social_security_wages <= max(base, wages_to_date)
    assert sum(d.amount for d in (*check.pre_tax, *check.post_tax)
               if d.kind in ("401k", "roth_401k")) <= max(
        YEAR.elective_deferral_limit_cents - deducted_to_date, 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40_000_00), min_size=1, max_size=30))
def test_a_years_paychecks_never_tax_social_security_past_the_wage_base(
        grosses: list[int]) -> None:
    to_date = TaxWagesToDate()
    ss_wages = futa_wages = 0
    for gross in grosses:
        check = compute_paycheck([Earning("salary", gross)], [], KINDS, W4(), "biweekly", YEAR,
                                 YearToDate(to_date))
        ss_wages += check.taxes.social_security_wages
        futa_wages += check.taxes.futa_wages
        to_date = TaxWagesToDate(to_date.social_security + check.taxes.social_security_wages,
                                 to_date.medicare + check.taxes.medicare_wages,
                                 to_date.futa + check.taxes.futa_wages)
    assert ss_wages == min(sum(grosses), YEAR.social_security_wage_base_cents)
    assert futa_wages == min(sum(grosses), YEAR.futa_wage_base_cents)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["S001", "S002", "S003"]),
                          st.integers(0, 10_000_00), st.lists(deduction, max_size=3)),
                min_size=1, max_size=8))
def test_the_payroll_journal_always_balances(
        checks: list[tuple[str, int, list[EmployeeDeduction]]]) -> None:
    from datetime import date

    from server.accounting.chart import load_chart
    from server.payroll.journal import figures_of, payroll_drafts

    figures = []
    for store, gross, deductions in checks:
        try:
            check = compute_paycheck([Earning("regular", gross)], deductions, KINDS, W4(),
                                     "weekly", YEAR, YearToDate())
        except ValueError:
            continue
        figures.append(figures_of(store, check))
    for draft in payroll_drafts("R", date(2026, 12, 4), figures, load_chart()):
        assert sum(line.amount_minor for line in draft.lines) == 0
