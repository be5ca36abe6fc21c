"""The payroll journal: a posted pay run's entries for the general ledger. Pure.

One entry per store of the run (``payroll:RUN:STORE``), dated the pay date, so wages land in
each store's P&L:

- wages (debit): gross pay;
- employer_taxes (debit), sub social_security / medicare / futa: the employer's share;
- payroll_taxes (credit), sub federal_income_tax / social_security / medicare / futa: what
  was withheld plus the employer's share;
- payroll_deductions (credit), sub the deduction kind: pre- and post-tax deductions;
- net_pay (credit): net pay, cleared when the direct deposit settles.

It balances because gross = pre-tax + employee taxes + post-tax + net for every paycheck.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from server.accounting.chart import Chart
from server.accounting.rules import Draft, Posting, balance_check, consolidate
from server.payroll.paycheck import Paycheck


class PaycheckFigures(NamedTuple):
    """What the journal needs of one paycheck (from a computed paycheck or a stored row)."""

    store_id: str
    gross: int
    income_tax: int
    ss_employee: int
    medicare_employee: int
    ss_employer: int
    medicare_employer: int
    futa_employer: int
    net: int
    deductions: tuple[tuple[str, int], ...]  # (kind, amount)


def figures_of(store_id: str, check: Paycheck) -> PaycheckFigures:
    taxes = check.taxes
    return PaycheckFigures(store_id, check.gross, check.income_tax,
                           taxes.social_security_employee, taxes.medicare_employee,
                           taxes.social_security_employer, taxes.medicare_employer,
                           taxes.futa_employer, check.net,
                           tuple((d.kind, d.amount) for d in (*check.pre_tax, *check.post_tax)))


def figures_of_row(row: Any) -> PaycheckFigures:
    """From a ``paychecks`` row."""
    return PaycheckFigures(row.store_id, int(row.gross_minor), int(row.income_tax_minor),
                           int(row.ss_employee_minor), int(row.medicare_employee_minor),
                           int(row.ss_employer_minor), int(row.medicare_employer_minor),
                           int(row.futa_employer_minor), int(row.net_minor),
                           tuple((d["kind"], int(d["amount_minor"])) for d in row.deductions))


def payroll_drafts(run_id: str, pay_date: date, checks: Iterable[PaycheckFigures],
                   chart: Chart, currency: str = "USD") -> list[Draft]:
    """One balanced entry per home store of the run's paychecks, in store order."""
    code = chart.code
    by_store: dict[str, list[Posting]] = defaultdict(list)
    for check in checks:
        by_store[check.store_id] += [
            (code("wages"), check.gross, ""),
            (code("employer_taxes"), check.ss_employer, "social_security"),
            (code("employer_taxes"), check.medicare_employer, "medicare"),
            (code("employer_taxes"), check.futa_employer, "futa"),
            (code("payroll_taxes"), -check.income_tax, "federal_income_tax"),
            (code("payroll_taxes"), -(check.ss_employee + check.ss_employer),
             "social_security"),
            (code("payroll_taxes"), -(check.medicare_employee + check.medicare_employer),
             "medicare"),
            (code("payroll_taxes"), -check.futa_employer, "futa"),
            (code("net_pay"), -check.net, ""),
            *((code("payroll_deductions"), -amount, kind) for kind, amount in check.deductions),
        ]
    drafts = []
    for store_id in sorted(by_store):
        lines = consolidate(by_store[store_id])
        balance_check(lines)
        if lines:
            drafts.append(Draft(key=f"payroll:{run_id}:{store_id}", store_id=store_id,
                                business_date=pay_date, currency=currency, source="payroll",
                                memo=f"pay run {run_id}", lines=lines))
    return drafts
