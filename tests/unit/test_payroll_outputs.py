"""The direct-deposit file (NACHA PPD) and the payroll journal entries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from ach.parser import Parser  # type: ignore[import-untyped]  # carta-ach, independent
from hypothesis import given, settings
from hypothesis import strategies as st

from server.accounting.chart import load_chart
from server.payroll.journal import figures_of, payroll_drafts
from server.payroll.nacha import Credit, NachaError, Originator, build_ppd_file, validate_ach
from server.payroll.paycheck import (
    Earning,
    EmployeeDeduction,
    YearToDate,
    compute_paycheck,
    load_deduction_kinds,
)
from server.payroll.tax_year import load_tax_year
from server.payroll.withholding import W4

BANK = Originator(company_name="Corner Shops Inc", company_id="1123456789",
                  bank_routing="021000021", bank_name="First Example Bank")
CREDITS = [
    Credit("E1", "Ana María Núñez", "011000015", "123456789", "checking", 1234_56),
    Credit("E2", "Bo Li", "021000021", "000987654321", "savings", 98_07),
    Credit("E3", "Cy O'Neil", "122105155", "5550001", "checking", 2000_00),
]
WHEN = datetime(2026, 12, 3, 14, 5)


def test_the_file_passes_the_format_checks_and_reads_back_independently() -> None:
    text = build_ppd_file(BANK, CREDITS, date(2026, 12, 4), WHEN)
    lines = text.splitlines()
    assert len(lines) == 10 and all(len(line) == 94 for line in lines)
    summary = validate_ach(text)
    assert (summary.batches, summary.entries) == (1, 3)
    assert summary.total_credit_cents == 1234_56 + 98_07 + 2000_00
    assert summary.entry_hash == 1100001 + 2100002 + 12210515  # 8-digit routing prefixes
    parsed = Parser(text).as_dict()
    [batch] = parsed["batches"]
    assert batch["batch_header"]["std_ent_cls_code"] == "PPD"
    entries = [e["entry_detail"] for e in batch["entries"]]
    assert [int(e["amount"]) for e in entries] == [1234_56, 98_07, 2000_00]
    assert [e["transaction_code"] for e in entries] == ["22", "32", "22"]
    assert entries[0]["ind_name"].strip() == "ANA MARIA NUNEZ"
    assert int(parsed["file_control"]["credit_amount"]) == 3332_63
    assert int(batch["batch_control"]["credit_amount"]) == 3332_63


def test_a_tampered_file_fails_validation() -> None:
    text = build_ppd_file(BANK, CREDITS, date(2026, 12, 4), WHEN)
    lines = text.splitlines()
    entry = lines[2]
    lines[2] = entry[:29] + "0000999999" + entry[39:]  # the first entry's amount
    with pytest.raises(NachaError, match="batch totals"):
        validate_ach("\n".join(lines) + "\n")
    with pytest.raises(NachaError, match="blocks of ten"):
        validate_ach("\n".join(text.splitlines()[:-1]) + "\n")


@pytest.mark.parametrize(("credit", "message"), [
    (Credit("E9", "X", "011000016", "1", "checking", 1), "not a valid ABA routing"),
    (Credit("E9", "X", "011000015", "1", "money_market", 1), "checking or savings"),
    (Credit("E9", "X", "011000015", "1", "checking", 0), "must be positive"),
    (Credit("E9", "X", "011000015", "123456789012345678", "checking", 1), "1 to 17"),
])
def test_a_bad_credit_is_refused_by_name(credit: Credit, message: str) -> None:
    with pytest.raises(NachaError, match=message):
        build_ppd_file(BANK, [credit], date(2026, 12, 4), WHEN)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 99_999_999), min_size=1, max_size=25))
def test_any_set_of_credits_makes_a_valid_file(amounts: list[int]) -> None:
    credits = [Credit(f"E{n}", f"Employee {n}", "011000015", f"{n:09d}", "checking", a)
               for n, a in enumerate(amounts)]
    summary = validate_ach(build_ppd_file(BANK, credits, date(2026, 12, 4), WHEN))
    assert summary.entries == len(amounts) and summary.total_credit_cents == sum(amounts)


YEAR = load_tax_year(2026)
KINDS = load_deduction_kinds()
CHART = load_chart()


def test_the_payroll_journal_balances_per_store_and_carries_every_figure() -> None:
    checks = [
        ("S001", compute_paycheck([Earning("regular", 2150_00)],
                                  [EmployeeDeduction("401k", percent=Decimal(5)),
                                   EmployeeDeduction("garnishment", amount=50_00)],
                                  KINDS, W4(), "biweekly", YEAR, YearToDate())),
        ("S001", compute_paycheck([Earning("salary", 3000_00)], [], KINDS,
                                  W4(filing_status="married_jointly"), "biweekly", YEAR,
                                  YearToDate())),
        ("S002", compute_paycheck([Earning("regular", 800_00)], [], KINDS, W4(), "biweekly",
                                  YEAR, YearToDate())),
    ]
    drafts = payroll_drafts("R1", date(2026, 12, 4),
                            [figures_of(store, check) for store, check in checks], CHART)
    assert [d.key for d in drafts] == ["payroll:R1:S001", "payroll:R1:S002"]
    for draft in drafts:
        assert sum(line.amount_minor for line in draft.lines) == 0
    s1 = {(line.account, line.sub): line.amount_minor for line in drafts[0].lines}
    assert s1[(CHART.code("wages"), "")] == 5150_00
    assert s1[(CHART.code("net_pay"), "")] == -(checks[0][1].net + checks[1][1].net)
    assert s1[(CHART.code("payroll_deductions"), "garnishment")] == -50_00
    withheld = checks[0][1].income_tax + checks[1][1].income_tax
    assert s1[(CHART.code("payroll_taxes"), "federal_income_tax")] == -withheld
