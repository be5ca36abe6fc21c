"""Federal income tax withholding by IRS Publication 15-T (2026), Worksheet 1A, with the 2026
annual percentage method tables for automated payroll systems (config/payroll/federal/
2026.toml). Each case shows its worksheet arithmetic in dollars."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.payroll.tax_year import TaxYearError, load_tax_year
from server.payroll.withholding import W4, W4Error, worksheet_1a

TABLES = load_tax_year(2026)


@pytest.mark.parametrize(("wages", "frequency", "w4", "expected"), [
    # 1,000 x 52 = 52,000 - 8,600 = 43,400; 1,240 + 12% x (43,400 - 19,900) = 4,060; / 52
    (1000_00, "weekly", W4(), 78_08),
    # 52,000, no line 1g; checkbox single: 2,900 + 22% x (52,000 - 33,250) = 7,025; / 52
    (1000_00, "weekly", W4(step2_checkbox=True), 135_10),
    # 2,500 x 26 = 65,000 - 12,900 = 52,100; 2,480 + 12% x 8,000 = 3,440 / 26 = 132.31;
    # Step 3: 4,000 / 26 = 153.85 > 132.31: nothing withheld
    (2500_00, "biweekly", W4(filing_status="married_jointly", dependents_credit=4000_00), 0),
    # 6,000 x 12 = 72,000 + 1,200 (4a) - 3,000 (4b) = 70,200; HoH checkbox:
    # 8,077.50 + 24% x (70,200 - 64,925) = 9,343.50 / 12 = 778.625 -> 778.63; + 25 (4c)
    (6000_00, "monthly", W4(filing_status="head_of_household", step2_checkbox=True,
                            other_income=1200_00, deductions=3000_00,
                            extra_withholding=25_00), 803_63),
    # 3,000 x 24 = 72,000; single checkbox: 8,983 + 24% x (72,000 - 60,900) = 11,647 / 24
    (3000_00, "semimonthly", W4(step2_checkbox=True), 485_29),
    # 300 x 52 = 15,600 - 8,600 = 7,000: under the 7,500 at which single withholding starts
    (300_00, "weekly", W4(), 0),
    # 40,000 x 26 = 1,040,000 - 12,900 = 1,027,100; MFJ top row:
    # 206,583.50 + 37% x (1,027,100 - 788,000) = 295,050.50 / 26 = 11,348.096 -> 11,348.10
    (40000_00, "biweekly", W4(filing_status="married_jointly"), 11348_10),
    # HoH standard: 1,500 x 26 = 39,000 - 8,600 = 30,400; 10% x (30,400 - 15,550) = 1,485
    # / 26 = 57.115 -> 57.12; Step 3 2,000 / 26 = 76.92: nothing; 4(c) 10 still withheld
    (1500_00, "biweekly", W4(filing_status="head_of_household", dependents_credit=2000_00,
                             extra_withholding=10_00), 10_00),
    # exempt: nothing, whatever else the form says
    (5000_00, "weekly", W4(exempt=True, extra_withholding=50_00), 0),
    # zero wages
    (0, "monthly", W4(), 0),
])
def test_worksheet_1a_2026(wages: int, frequency: str, w4: W4, expected: int) -> None:
    assert worksheet_1a(wages, frequency, w4, TABLES).withholding == expected


def test_the_worksheet_lines_are_kept() -> None:
    sheet = worksheet_1a(1000_00, "weekly", W4(), TABLES)
    assert (sheet.line_1c, sheet.line_1g, sheet.line_1i) == (52000_00, 8600_00, 43400_00)
    assert (sheet.line_2a, sheet.line_2b, sheet.line_2c) == (19900_00, 1240_00, Fraction(12))
    assert sheet.line_2f == 4060_00
    assert sheet.line_2h == 78_08


def test_a_bracket_floor_belongs_to_the_row_it_starts() -> None:
    # 2,375 x 12 = 28,500 - 8,600 = 19,900 exactly: the 12% row, nothing over its floor
    sheet = worksheet_1a(2375_00, "monthly", W4(), TABLES)
    assert sheet.line_1i == 19900_00
    assert sheet.line_2a == 19900_00 and sheet.line_2d == 0
    assert sheet.line_2h == 103_33  # 1,240 / 12


@given(st.integers(0, 50_000_00), st.integers(0, 50_000_00),
       st.sampled_from(["single", "married_jointly", "head_of_household"]),
       st.sampled_from(["weekly", "biweekly", "semimonthly", "monthly"]))
def test_more_wages_never_withhold_less(a: int, b: int, status: str, frequency: str) -> None:
    low, high = sorted((a, b))
    for checkbox in (False, True):
        w4 = W4(filing_status=status, step2_checkbox=checkbox)
        assert worksheet_1a(low, frequency, w4, TABLES).withholding <= \
            worksheet_1a(high, frequency, w4, TABLES).withholding


@given(st.integers(0, 20_000_00),
       st.sampled_from(["single", "married_jointly", "head_of_household"]))
def test_the_checkbox_never_withholds_less(wages: int, status: str) -> None:
    plain = worksheet_1a(wages, "biweekly", W4(filing_status=status), TABLES).withholding
    checked = worksheet_1a(wages, "biweekly", W4(filing_status=status, step2_checkbox=True),
                           TABLES).withholding
    assert checked >= plain


@pytest.mark.parametrize(("doc", "field"), [
    ({"filing_status": "married"}, "filing_status"),
    ({"dependents_credit": "-500.00"}, "dependents_credit"),
    ({"dependents_credit": "500.50"}, "dependents_credit"),
    ({"deductions": 12.5}, "deductions"),
    ({"extra_withholding": "abc"}, "extra_withholding"),
    ({"step2_checkbox": "yes"}, "step2_checkbox"),
    ({"allowances": 2}, "allowances"),
    ({"other_income": "1000000000.00"}, "other_income"),
])
def test_an_impossible_w4_is_refused_by_field(doc: dict[str, object], field: str) -> None:
    with pytest.raises(W4Error) as caught:
        W4.from_document(doc)
    assert caught.value.field == field


def test_a_w4_round_trips_through_its_document() -> None:
    w4 = W4(filing_status="head_of_household", step2_checkbox=True, dependents_credit=2000_00,
            other_income=150_25, deductions=99_99, extra_withholding=5_00)
    assert W4.from_document(w4.to_document()) == w4


def test_a_year_without_tables_is_refused_by_name() -> None:
    with pytest.raises(TaxYearError, match="no federal tax tables for 2031"):
        load_tax_year(2031)
