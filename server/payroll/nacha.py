"""A NACHA (ACH) file of PPD credits for direct deposit: one batch, one entry per paycheck.
Pure: text in, text out.

Records are 94 characters, in blocks of ten (the last block padded with all-9 records): the
file header (1), the batch header (5, service class 220: credits only), entry details (6:
transaction code 22 checking / 32 savings, the receiving bank's 8-digit routing prefix and
check digit, the account, the amount in cents, the employee id and name, a trace number),
the batch control (8) and the file control (9) with their counts, hash totals (the sum of the
8-digit routing prefixes, its rightmost ten digits) and credit totals. Routing numbers are
checked with python-stdnum (ABA check digit). Only the characters NACHA allows (upper-case
ASCII letters, digits, space and common punctuation) are written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from stdnum.us import rtn

RECORD = 94
BLOCKING = 10
_ALLOWED = re.compile(r"[^A-Z0-9 !\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]")
TRANSACTION_CODES = {"checking": "22", "savings": "32"}


class NachaError(ValueError):
    """A field that cannot go into an ACH file; the message names it."""


def _alpha(text: str, width: int) -> str:
    """Upper-case ASCII (accents dropped from their letters, not the letters dropped)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = _ALLOWED.sub("", plain.upper())
    return cleaned[:width].ljust(width)


def _number(value: int, width: int, field: str) -> str:
    if value < 0 or len(str(value)) > width:
        raise NachaError(f"{field}: {value} does not fit {width} digits")
    return str(value).rjust(width, "0")


def check_routing(routing: str, field: str) -> str:
    if not rtn.is_valid(routing):
        raise NachaError(f"{field}: {routing!r} is not a valid ABA routing number")
    return routing


@dataclass(frozen=True, slots=True)
class Originator:
    """The employer and its bank (the ODFI)."""

    company_name: str
    company_id: str  # 10 characters, often "1" + the EIN
    bank_routing: str  # the ODFI's routing number
    bank_name: str
    destination_routing: str | None = None  # the ACH operator, if not the bank itself
    destination_name: str | None = None


@dataclass(frozen=True, slots=True)
class Credit:
    employee_id: str
    name: str
    routing: str
    account: str
    account_type: str  # checking or savings
    amount_cents: int


def build_ppd_file(originator: Originator, credits: Sequence[Credit], effective: date,
                   created: datetime, description: str = "PAYROLL", modifier: str = "A",
                   batch_number: int = 1) -> str:
    """The file as text, records joined with CRLF-free newlines ("\\n" after each)."""
    check_routing(originator.bank_routing, "bank_routing")
    destination = originator.destination_routing or originator.bank_routing
    check_routing(destination, "destination_routing")
    if len(originator.company_id) > 10 or not originator.company_id.strip():
        raise NachaError("company_id: 1 to 10 characters")
    if not re.fullmatch(r"[A-Z0-9]", modifier):
        raise NachaError("modifier: one upper-case letter or digit")
    odfi = originator.bank_routing[:8]
    records = [
        "1" + "01" + " " + destination + " " + originator.bank_routing
        + created.strftime("%y%m%d") + created.strftime("%H%M") + modifier + "094" + "10"
        + "1" + _alpha(originator.destination_name or originator.bank_name, 23)
        + _alpha(originator.company_name, 23) + " " * 8,
        "5" + "220" + _alpha(originator.company_name, 16) + " " * 20
        + _alpha(originator.company_id, 10) + "PPD" + _alpha(description, 10)
        + effective.strftime("%y%m%d") + effective.strftime("%y%m%d") + "   " + "1" + odfi
        + _number(batch_number, 7, "batch_number"),
    ]
    entry_hash = 0
    total = 0
    for index, credit in enumerate(credits, start=1):
        check_routing(credit.routing, f"credit {credit.employee_id}: routing")
        code = TRANSACTION_CODES.get(credit.account_type)
        if code is None:
            raise NachaError(f"credit {credit.employee_id}: account_type must be checking "
                             "or savings")
        account = credit.account.strip()
        if not account or len(account) > 17 or _ALLOWED.search(account.upper()):
            raise NachaError(f"credit {credit.employee_id}: account: 1 to 17 letters or digits")
        if credit.amount_cents <= 0:
            raise NachaError(f"credit {credit.employee_id}: a direct deposit must be positive")
        entry_hash += int(credit.routing[:8])
        total += credit.amount_cents
        records.append("6" + code + credit.routing[:8] + credit.routing[8] + account.ljust(17)
                       + _number(credit.amount_cents, 10, "amount")
                       + _alpha(credit.employee_id, 15) + _alpha(credit.name, 22) + "  " + "0"
                       + odfi + _number(index, 7, "trace sequence"))
    hash_text = str(entry_hash)[-10:].rjust(10, "0")
    count = len(credits)
    records.append("8" + "220" + _number(count, 6, "entry count") + hash_text
                   + _number(0, 12, "debits") + _number(total, 12, "credits")
                   + _alpha(originator.company_id, 10) + " " * 19 + " " * 6 + odfi
                   + _number(batch_number, 7, "batch_number"))
    lines = len(records) + 1
    blocks = -(-lines // BLOCKING)
    records.append("9" + _number(1, 6, "batch count") + _number(blocks, 6, "block count")
                   + _number(count, 8, "entry count") + hash_text + _number(0, 12, "debits")
                   + _number(total, 12, "credits") + " " * 39)
    records += ["9" * RECORD] * (blocks * BLOCKING - lines)
    for record in records:
        if len(record) != RECORD:  # a bug here, never the caller's input
            raise AssertionError(f"record of {len(record)} characters: {record!r}")
    return "\n".join(records) + "\n"


@dataclass(frozen=True, slots=True)
class NachaSummary:
    batches: int
    entries: int
    total_credit_cents: int
    total_debit_cents: int
    entry_hash: int


def validate_ach(text: str) -> NachaSummary:
    """Read an ACH file back and check what a bank's format check checks: record lengths and
    order, blocking, routing check digits, and every count, hash and total in the batch and
    file controls against the entries. Raises :class:`NachaError` on the first problem."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or len(lines) % BLOCKING:
        raise NachaError(f"{len(lines)} records: not a whole number of blocks of ten")
    for number, line in enumerate(lines, start=1):
        if len(line) != RECORD:
            raise NachaError(f"record {number}: {len(line)} characters, not 94")
    if lines[0][0] != "1" or lines[0][34:37] != "094" or lines[0][37:39] != "10":
        raise NachaError("record 1: not a file header with record size 094, blocking 10")
    batches = entries = credit = debit = file_hash = 0
    index = 1
    while index < len(lines) and lines[index][0] == "5":
        header = lines[index]
        batch_entries = batch_credit = batch_debit = batch_hash = 0
        index += 1
        while index < len(lines) and lines[index][0] in "67":
            record = lines[index]
            if record[0] == "6":
                routing = record[3:12]
                if not rtn.is_valid(routing):
                    raise NachaError(f"record {index + 1}: routing {routing} fails its check")
                amount = int(record[29:39])
                if record[1:3] in ("22", "32"):
                    batch_credit += amount
                elif record[1:3] in ("27", "37"):
                    batch_debit += amount
                else:
                    raise NachaError(f"record {index + 1}: transaction code {record[1:3]}")
                batch_hash += int(record[3:11])
            batch_entries += 1
            index += 1
        if index >= len(lines) or lines[index][0] != "8":
            raise NachaError(f"record {index + 1}: the batch has no control record")
        control = lines[index]
        if control[1:4] != header[1:4] or control[87:94] != header[87:94]:
            raise NachaError(f"record {index + 1}: service class or batch number differs")
        if int(control[4:10]) != batch_entries:
            raise NachaError(f"record {index + 1}: entry count {int(control[4:10])}, "
                             f"entries {batch_entries}")
        if int(control[10:20]) != batch_hash % 10**10:
            raise NachaError(f"record {index + 1}: entry hash differs")
        if int(control[20:32]) != batch_debit or int(control[32:44]) != batch_credit:
            raise NachaError(f"record {index + 1}: batch totals differ from the entries")
        batches += 1
        entries += batch_entries
        credit += batch_credit
        debit += batch_debit
        file_hash += batch_hash
        index += 1
    if index >= len(lines) or lines[index][0] != "9":
        raise NachaError(f"record {index + 1}: expected the file control record")
    control = lines[index]
    if int(control[1:7]) != batches or int(control[7:13]) != len(lines) // BLOCKING:
        raise NachaError("file control: batch or block count differs")
    if int(control[13:21]) != entries or int(control[21:31]) != file_hash % 10**10:
        raise NachaError("file control: entry count or hash differs")
    if int(control[31:43]) != debit or int(control[43:55]) != credit:
        raise NachaError("file control: totals differ from the batches")
    if any(line != "9" * RECORD for line in lines[index + 1:]):
        raise NachaError("after the file control only all-9 filler records may follow")
    return NachaSummary(batches, entries, credit, debit, file_hash % 10**10)
