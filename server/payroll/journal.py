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

from server.accounting.chart import Chart
from server.accounting.rules import Draft, Posting, balance_check, consolidate
from server.payroll.paycheck import Paycheck


def payroll_drafts(run_id: str, pay_date: date, paychecks: Iterable[tuple[str, Paycheck]],
                   chart: Chart, currency: str = "USD") -> list[Draft]:
    """``paychecks``: (home store, paycheck). Entries in store order."""
    code = chart.code
    by_store: dict[str, list[Posting]] = defaultdict(list)
    for store_id, check in paychecks:
        postings = by_store[store_id]
        taxes = check.taxes
        postings += [
            (code("wages"), check.gross, ""),
            (code("employer_taxes"), taxes.social_security_employer, "social_security"),
            (code("employer_taxes"), taxes.medicare_employer, "medicare"),
            (code("employer_taxes"), taxes.futa_employer, "futa"),
            (code("payroll_taxes"), -check.income_tax, "federal_income_tax"),
            (code("payroll_taxes"),
             -(taxes.social_security_employee + taxes.social_security_employer),
             "social_security"),
            (code("payroll_taxes"), -(taxes.medicare_employee + taxes.medicare_employer),
             "medicare"),
            (code("payroll_taxes"), -taxes.futa_employer, "futa"),
            (code("net_pay"), -check.net, ""),
        ]
        postings += [(code("payroll_deductions"), -d.amount, d.kind)
                  for d in (*check.pre_tax, *check.post_tax)]
    drafts = []
    for store_id in sorted(by_store):
        lines = consolidate(by_store[store_id])
        balance_check(lines)
        if lines:
            drafts.append(Draft(key=f"payroll:{run_id}:{store_id}", store_id=store_id,
                                business_date=pay_date, currency=currency, source="payroll",
                                memo=f"pay run {run_id}", lines=lines))
    return drafts
