"""What a pay run produces for people and banks: the payroll register (one row per paycheck),
pay stubs (current and year to date per earning, deduction and tax) as HTML and PDF, and the
NACHA direct-deposit file of the run's net pay."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from fpdf import FPDF
from sqlalchemy.ext.asyncio import AsyncConnection

from config.settings import PayrollSettings
from server.payroll.bank import BankVault
from server.payroll.nacha import Credit, Originator, build_ppd_file
from server.payroll.paycheck import PERCENTAGE_METHOD, deduction_order
from server.payroll.timekeeping import PayrollRefusal
from server.storage.tables import employee_pay, pay_runs, paychecks
from sync.money import format_minor

TAX_COLUMNS = (("Federal income tax", "income_tax_minor"),
               ("Social Security", "ss_employee_minor"),
               ("Medicare", "medicare_employee_minor"))
EMPLOYER_COLUMNS = (("Social Security (employer)", "ss_employer_minor"),
                    ("Medicare (employer)", "medicare_employer_minor"),
                    ("FUTA (employer)", "futa_employer_minor"))
REGISTER_COLUMNS = ("employee_id", "name", "store_id", "gross", "pre_tax_deductions",
                    "federal_income_tax", "social_security", "medicare",
                    "post_tax_deductions", "net", "employer_social_security",
                    "employer_medicare", "employer_futa")


def money(minor: int) -> str:
    return format_minor(minor, 2)


def register_rows(rows: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        pre = sum(int(d["amount_minor"]) for d in r.deductions if d["pre_tax"])
        post = sum(int(d["amount_minor"]) for d in r.deductions if not d["pre_tax"])
        out.append({"employee_id": r.employee_id, "name": r.detail.get("name", ""),
                    "store_id": r.store_id, "gross": money(int(r.gross_minor)),
                    "pre_tax_deductions": money(pre),
                    "federal_income_tax": money(int(r.income_tax_minor)),
                    "social_security": money(int(r.ss_employee_minor)),
                    "medicare": money(int(r.medicare_employee_minor)),
                    "post_tax_deductions": money(post), "net": money(int(r.net_minor)),
                    "employer_social_security": money(int(r.ss_employer_minor)),
                    "employer_medicare": money(int(r.medicare_employer_minor)),
                    "employer_futa": money(int(r.futa_employer_minor))})
    return out


async def run_rows(conn: AsyncConnection, run_id: str) -> list[Any]:
    return list(await conn.execute(sa.select(paychecks).where(paychecks.c.run_id == run_id)
                                   .order_by(paychecks.c.store_id, paychecks.c.employee_id)))


async def stub_data(conn: AsyncConnection, run: Any, employee_id: str) -> dict[str, Any]:
    """One paycheck, with year-to-date sums through it (runs approved or posted earlier in
    the year, and this one)."""
    row = (await conn.execute(sa.select(paychecks).where(
        paychecks.c.run_id == run.run_id, paychecks.c.employee_id == employee_id))).first()
    if row is None:
        raise PayrollRefusal(404, f"pay run {run.run_id} has no paycheck for {employee_id}")
    history = list(await conn.execute(
        sa.select(paychecks).join(pay_runs, pay_runs.c.run_id == paychecks.c.run_id).where(
            paychecks.c.employee_id == employee_id,
            paychecks.c.pay_date >= date(run.pay_date.year, 1, 1),
            paychecks.c.pay_date <= run.pay_date,
            sa.or_(pay_runs.c.status.in_(["approved", "posted"]),
                   pay_runs.c.run_id == run.run_id))))
    earnings_ytd: dict[str, int] = defaultdict(int)
    deductions_ytd: dict[tuple[str, str], int] = defaultdict(int)  # by deduction_order
    taxes_ytd: dict[str, int] = defaultdict(int)
    for past in history:
        for e in past.detail["earnings"]:
            earnings_ytd[e["code"]] += int(e["amount_minor"])
        for d in past.deductions:
            deductions_ytd[deduction_order(d["kind"], d.get("reference"))] += \
                int(d["amount_minor"])
        for _, column in (*TAX_COLUMNS, *EMPLOYER_COLUMNS):
            taxes_ytd[column] += int(getattr(past, column))
        taxes_ytd["gross_minor"] += int(past.gross_minor)
        taxes_ytd["net_minor"] += int(past.net_minor)
    pay = (await conn.execute(sa.select(employee_pay.c.bank_masked).where(
        employee_pay.c.employee_id == employee_id))).first()
    return {
        "run_id": run.run_id, "status": run.status, "pay_date": run.pay_date.isoformat(),
        "period_start": run.period_start.isoformat(), "period_end": run.period_end.isoformat(),
        "employee_id": employee_id, "name": row.detail.get("name", ""),
        "store_id": row.store_id, "deposit": pay.bank_masked if pay else None,
        "earnings": [{"code": e["code"], "hours": _hours(e["minutes"]),
                      "rate": money(e["rate_minor"]) if e["rate_minor"] is not None else None,
                      "multiplier": e["multiplier"], "current": money(int(e["amount_minor"])),
                      "ytd": money(earnings_ytd[e["code"]])}
                     for e in row.detail["earnings"]],
        "deductions": [{"kind": d["kind"], "reference": d.get("reference"),
                        "name": d["name"] + (f" ({d['reference']})" if d.get("reference")
                                             else ""),
                        "pre_tax": d["pre_tax"], "current": money(int(d["amount_minor"])),
                        "ytd": money(deductions_ytd[deduction_order(d["kind"],
                                                                    d.get("reference"))]),
                        "balance_left": money(int(d["balance_left_minor"]))
                        if "balance_left_minor" in d else None}
                       for d in row.deductions],
        "taxes": [{"name": name, "current": money(int(getattr(row, column))),
                   "ytd": money(taxes_ytd[column])} for name, column in TAX_COLUMNS],
        "employer_taxes": [{"name": name, "current": money(int(getattr(row, column))),
                            "ytd": money(taxes_ytd[column])}
                           for name, column in EMPLOYER_COLUMNS],
        "gross": {"current": money(int(row.gross_minor)),
                  "ytd": money(taxes_ytd["gross_minor"])},
        "net": {"current": money(int(row.net_minor)), "ytd": money(taxes_ytd["net_minor"])},
        "w4": row.detail.get("w4"),
        "income_tax_method": row.detail.get("income_tax_method", PERCENTAGE_METHOD),
    }


def _hours(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    whole, rest = divmod(minutes * 100 // 60, 100)
    return f"{whole}.{rest:02d}"


def _hours_at(earning: dict[str, Any]) -> str:
    """How a stub line was reckoned: hours × rate × multiplier; overtime in a week worked at
    several rates is at that week's regular rate (a blend, not one rate)."""
    if earning["hours"] is None:
        return ""
    if earning["rate"] is None:
        return f" {earning['hours']} h x {earning['multiplier']}, on the week's regular rate"
    return f" {earning['hours']} h x {earning['rate']} x {earning['multiplier']}"


def _tax_name(name: str, stub: dict[str, Any]) -> str:
    """Income tax on supplemental wages says how it was figured (a flat rate, say)."""
    method = stub.get("income_tax_method", PERCENTAGE_METHOD)
    if name == TAX_COLUMNS[0][0] and method != PERCENTAGE_METHOD:
        return f"{name} ({method})"
    return name


def _table_rows(stub: dict[str, Any]) -> list[tuple[str, list[tuple[str, ...]]]]:
    return [
        ("Earnings", [(f"{e['code']}" + _hours_at(e),
                       e["current"], e["ytd"]) for e in stub["earnings"]]
         + [("Gross pay", stub["gross"]["current"], stub["gross"]["ytd"])]),
        ("Taxes withheld", [(_tax_name(t["name"], stub), t["current"], t["ytd"])
                            for t in stub["taxes"]]),
        ("Deductions", [(f"{d['name']} ({'pre-tax' if d['pre_tax'] else 'after tax'}"
                         + (f"; {d['balance_left']} left to pay" if d.get("balance_left")
                            is not None else "") + ")",
                         d["current"], d["ytd"]) for d in stub["deductions"]]),
        ("Net pay", [("Net pay" + (f" to {stub['deposit']}" if stub["deposit"] else
                                   " (paper check)"),
                      stub["net"]["current"], stub["net"]["ytd"])]),
        ("Employer taxes (not deducted)",
         [(t["name"], t["current"], t["ytd"]) for t in stub["employer_taxes"]]),
    ]


def stub_html(stub: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>Pay stub {e(stub['employee_id'])} {e(stub['pay_date'])}</title>",
        "<style>body{font-family:sans-serif;max-width:48em;margin:2em auto}"
        "table{border-collapse:collapse;width:100%;margin-bottom:1em}"
        "td,th{border-bottom:1px solid #ccc;padding:.2em .4em}"
        "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}</style></head><body>",
        f"<h1>Pay stub</h1><p><strong>{e(stub['name'])}</strong> ({e(stub['employee_id'])}), "
        f"store {e(stub['store_id'])}<br>Pay date {e(stub['pay_date'])}, period "
        f"{e(stub['period_start'])} to {e(stub['period_end'])}, run {e(stub['run_id'])}"
        + (f" <em>({e(stub['status'])}: not final)</em>" if stub["status"] == "draft" else "")
        + "</p>"]
    for title, rows in _table_rows(stub):
        parts.append(f"<h2>{e(title)}</h2><table><tr><th>Item</th><th class=\"n\">Current"
                     "</th><th class=\"n\">Year to date</th></tr>")
        parts += [f"<tr><td>{e(a)}</td><td class=\"n\">{e(b)}</td><td class=\"n\">{e(c)}"
                  "</td></tr>" for a, b, c in rows]
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def stub_pdf(stub: dict[str, Any]) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title(f"Pay stub {stub['employee_id']} {stub['pay_date']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Pay stub", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in (f"{_latin(stub['name'])} ({stub['employee_id']}), store {stub['store_id']}",
                 f"Pay date {stub['pay_date']}, period {stub['period_start']} to "
                 f"{stub['period_end']}, run {stub['run_id']}"
                 + (" (draft: not final)" if stub["status"] == "draft" else "")):
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    for title, rows in _table_rows(stub):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        with pdf.table(col_widths=(110, 40, 40), text_align=("LEFT", "RIGHT", "RIGHT")) as table:
            table.row(("Item", "Current", "Year to date"))
            for row in rows:
                table.row(tuple(_latin(cell) for cell in row))
    return bytes(pdf.output())


def _latin(text: str) -> str:
    """The core PDF fonts hold Latin-1 only: anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


async def nacha_file(conn: AsyncConnection, run: Any, settings: PayrollSettings,
                     vault: BankVault, now: datetime | None = None) -> tuple[str, list[str]]:
    """The run's direct deposits as an ACH PPD file, and the employees paid by paper check
    (no bank account on file)."""
    if run.status not in ("approved", "posted"):
        raise PayrollRefusal(409, f"pay run {run.run_id} is a {run.status}: the direct-deposit "
                                  "file is made once it is approved")
    rows = list(await conn.execute(
        sa.select(paychecks.c.employee_id, paychecks.c.net_minor, paychecks.c.detail,
                  employee_pay.c.bank_sealed)
        .join(employee_pay, employee_pay.c.employee_id == paychecks.c.employee_id)
        .where(paychecks.c.run_id == run.run_id, paychecks.c.net_minor > 0)
        .order_by(paychecks.c.employee_id)))
    credits, checks = [], []
    for r in rows:
        if not r.bank_sealed:
            checks.append(r.employee_id)
            continue
        account = vault.open(r.bank_sealed)
        credits.append(Credit(r.employee_id, r.detail.get("name", ""), account.routing,
                              account.account, account.account_type, int(r.net_minor)))
    originator = Originator(settings.company_name, settings.company_id, settings.bank_routing,
                            settings.bank_name)
    text = build_ppd_file(originator, credits, run.pay_date, now or datetime.now(UTC),
                          description="PAYROLL")
    return text, checks
