"""The chart of accounts as data: read from a TOML file (``config/accounting/
chart_of_accounts.toml`` by default), checked, and mapped by role so the posting rules never
name an account number. Pure: no database."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

ACCOUNT_TYPES = ("asset", "liability", "equity", "revenue", "expense")
ROLES = ("cash", "card_clearing", "inventory", "in_transit", "supplier_clearing", "sales_tax",
         "gift_card", "net_pay", "payroll_taxes", "payroll_deductions", "owner_equity",
         "retained_earnings", "revenue", "returns", "discounts", "paid_in", "cogs", "shrink",
         "count_variance", "cash_over_short", "paid_out", "wages", "employer_taxes")
DEFAULT_CHART = Path(__file__).resolve().parents[2] / "config" / "accounting" / \
    "chart_of_accounts.toml"
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")


class ChartError(ValueError):
    """The chart file is not usable; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Account:
    code: str
    name: str
    type: str
    role: str | None = None

    @property
    def normal_debit(self) -> bool:
        """Assets and expenses grow with debits; the others with credits."""
        return self.type in ("asset", "expense")


@dataclass(frozen=True, slots=True)
class Chart:
    accounts: tuple[Account, ...]
    roles: Mapping[str, str]  # role -> account code
    tenders: Mapping[str, str]  # tender type -> account code

    def code(self, role: str) -> str:
        return self.roles[role]

    def tender_account(self, tender_type: str) -> str:
        """The account a tender is debited to; an unknown tender type clears through card
        clearing (with the type as its sub-account), so no payment is ever unposted."""
        return self.tenders.get(tender_type, self.roles["card_clearing"])


def check_account(code: str, name: str, type_: str) -> str | None:
    """What is wrong with a new account, or None."""
    if not _CODE.fullmatch(code):
        return "code: 1-32 letters, digits, '.', '_' or '-', e.g. '6200'"
    if not name.strip() or len(name) > 200:
        return "name: 1-200 characters"
    if type_ not in ACCOUNT_TYPES:
        return f"type: one of {', '.join(ACCOUNT_TYPES)}"
    return None


def load_chart(path: Path | None = None) -> Chart:
    path = path or DEFAULT_CHART
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ChartError(f"{path}: {exc}") from exc
    return parse_chart(data, str(path))


def parse_chart(data: Mapping[str, object], source: str = "chart") -> Chart:
    raw_accounts = data.get("account")
    if not isinstance(raw_accounts, list) or not raw_accounts:
        raise ChartError(f"{source}: no [[account]] entries")
    accounts: list[Account] = []
    roles: dict[str, str] = {}
    for index, raw in enumerate(raw_accounts):
        where = f"{source}: account #{index + 1}"
        if not isinstance(raw, dict):
            raise ChartError(f"{where}: must be a table")
        code, name, type_ = str(raw.get("code", "")), str(raw.get("name", "")), \
            str(raw.get("type", ""))
        problem = check_account(code, name, type_)
        if problem:
            raise ChartError(f"{where} ({code or 'no code'}): {problem}")
        if any(a.code == code for a in accounts):
            raise ChartError(f"{where}: code {code} appears twice")
        role = raw.get("role")
        if role is not None:
            if role not in ROLES:
                raise ChartError(f"{where}: unknown role {role!r}; roles are {', '.join(ROLES)}")
            if role in roles:
                raise ChartError(f"{where}: role {role} is already held by {roles[role]}")
            roles[str(role)] = code
        accounts.append(Account(code, name, type_, str(role) if role else None))
    missing = [r for r in ROLES if r not in roles]
    if missing:
        raise ChartError(f"{source}: no account holds the role(s) {', '.join(missing)}")
    codes = {a.code for a in accounts}
    tenders = data.get("tenders", {})
    if not isinstance(tenders, dict):
        raise ChartError(f"{source}: [tenders] must map tender types to account codes")
    for tender, code in tenders.items():
        if code not in codes:
            raise ChartError(f"{source}: tender {tender} posts to {code}, which is not an "
                             "account here")
    return Chart(tuple(accounts), MappingProxyType(roles),
                 MappingProxyType({str(k): str(v) for k, v in tenders.items()}))
