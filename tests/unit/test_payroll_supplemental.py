"""Income tax on supplemental wages (off-cycle pay) by IRS Publication 15 (2026), section 7:
the optional flat rate, the aggregate method and the mandatory rate past $1,000,000 — by
hand, and through a whole paycheck."""

from __future__ import annotations

from server.payroll.paycheck import (
    PERCENTAGE_METHOD,
    Earning,
    YearToDate,
    compute_paycheck,
    load_deduction_kinds,
)
from server.payroll.supplemental import (
    AGGREGATE,
    EXEMPT,
    FLAT,
    MANDATORY,
    SupplementalHistory,
    supplemental_withholding,
)
from server.payroll.tax_year import load_tax_year
from server.payroll.withholding import W4

YEAR = load_tax_year(2026)


def test_a_bonus_after_withheld_regular_pay_takes_the_flat_22_percent() -> None:
    # 1,000.00 x 22 % = 220.00, whatever the W-4 (extra withholding and credits ignored)
    tax = supplemental_withholding(1_000_00, "biweekly", W4(extra_withholding=50_00,
                                                            dependents_credit=2_000_00),
                                   YEAR, SupplementalHistory(withheld_from_regular=True))
    assert (tax.amount, tax.method, tax.sheet) == (220_00, FLAT, None)


def test_without_withheld_regular_pay_the_aggregate_method_applies() -> None:
    # Regular 400.00 biweekly, nothing withheld; + 1,000.00 = 1,400.00 as one payment:
    # x 26 = 36,400 - 8,600 = 27,800; 1,240 + 12 % x (27,800 - 19,900) = 2,188 / 26 =
    # 84.1538 -> 84.15, less the 0 withheld = 84.15.
    history = SupplementalHistory(withheld_from_regular=False, aggregate_wages=400_00)
    tax = supplemental_withholding(1_000_00, "biweekly", W4(), YEAR, history)
    assert (tax.amount, tax.method) == (84_15, AGGREGATE)
    assert tax.sheet is not None and tax.sheet.line_1a == 1_400_00
    # An employee exempt from withholding has none withheld on the aggregate either.
    assert supplemental_withholding(1_000_00, "biweekly", W4(exempt=True), YEAR,
                                    history).amount == 0


def test_a_second_payment_in_the_period_is_aggregated_with_the_first() -> None:
    """Publication 15: earlier supplemental payments of the period join the regular wages
    in the aggregate, and what they withheld is subtracted too. Regular 400.00 + an earlier
    bonus of 1,000.00 (84.15 withheld) + this 500.00 = 1,900.00: x 26 = 49,400 - 8,600 =
    40,800; 1,240 + 12 % x 20,900 = 3,748 / 26 = 144.15; less 84.15 = 60.00."""
    history = SupplementalHistory(withheld_from_regular=False, aggregate_wages=1_400_00,
                                  aggregate_tax=84_15)
    assert supplemental_withholding(500_00, "biweekly", W4(), YEAR, history).amount == 60_00


def test_an_exempt_w4_has_nothing_withheld_but_the_mandatory_rate() -> None:
    tax = supplemental_withholding(1_000_00, "weekly", W4(exempt=True), YEAR,
                                   SupplementalHistory(withheld_from_regular=True))
    assert (tax.amount, tax.method) == (0, EXEMPT)


def test_supplemental_wages_past_a_million_take_37_percent_whatever_the_w4() -> None:
    # 999,500.00 paid earlier this year: of 1,000.00, 500.00 at 37 % = 185.00 and 500.00 at
    # 22 % = 110.00.
    history = SupplementalHistory(withheld_from_regular=True,
                                  supplemental_to_date=999_500_00)
    tax = supplemental_withholding(1_000_00, "weekly", W4(), YEAR, history)
    assert (tax.amount, tax.method) == (295_00, f"{FLAT}; {MANDATORY}")
    # Past it entirely, even an exempt W-4 has 37 % withheld.
    over = SupplementalHistory(withheld_from_regular=False,
                               supplemental_to_date=1_000_000_00)
    assert supplemental_withholding(1_000_00, "weekly", W4(exempt=True), YEAR,
                                    over).amount == 370_00


def test_an_off_cycle_paycheck_withholds_as_supplemental_wages() -> None:
    history = SupplementalHistory(withheld_from_regular=True)
    check = compute_paycheck([Earning("bonus", 250_00)], [], load_deduction_kinds(), W4(),
                             "weekly", YEAR, YearToDate(), history)
    assert (check.income_tax, check.income_tax_method, check.worksheet) == (55_00, FLAT, None)
    assert check.taxes.social_security_employee == 15_50  # FICA as on any wages
    regular = compute_paycheck([Earning("bonus", 250_00)], [], load_deduction_kinds(), W4(),
                               "weekly", YEAR, YearToDate())
    assert regular.income_tax_method == PERCENTAGE_METHOD and regular.worksheet is not None
