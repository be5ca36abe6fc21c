"""Employees at the POS: who may act, PIN checks, and manager approval.

Employees belong to head office (they arrive by sync; ``agent import-employees`` loads them
for a store that has not synced yet). PINs are stored as salted PBKDF2-SHA256 digests; a PIN
is short, so the digest keeps it from casual reading rather than from a determined attacker
with the file — the ledger file itself must be protected.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from store_agent.errors import CatalogImportError, NotAllowed, UnknownEmployee
from store_agent.ledger import write_transaction
from sync.pins import hash_pin, pin_matches

ROLES = frozenset({"cashier", "manager"})
__all__ = ["ROLES", "Employee", "hash_pin", "identify", "import_employees_csv",
           "manager_approval", "pin_matches"]


@dataclass(frozen=True, slots=True)
class Employee:
    employee_id: str
    name: str
    role: str


def find_employee(db: Database, employee_id: str, field: str) -> tuple[Employee, str]:
    row = db.execute("SELECT employee_id, name, role, pin_hash FROM employees "
                     "WHERE employee_id = ? AND active = 1", [employee_id]).fetchone()
    if row is None:
        raise UnknownEmployee(field, employee_id)
    return Employee(employee_id=row[0], name=row[1], role=row[2]), row[3]


def identify(db: Database, request: dict[str, Any], field: str, require_pin: bool) -> Employee:
    """The employee a request names in ``field`` (``{"employee_id", "pin"}`` or an id string),
    checking the PIN when the store requires it. Until the store has any employee (a store
    that has neither synced nor imported them), any id is taken as given."""
    value = request.get(field)
    employee_id, pin = _id_and_pin(value, field)
    if db.execute("SELECT 1 FROM employees LIMIT 1").fetchone() is None:
        return Employee(employee_id=employee_id, name=employee_id, role="cashier")
    employee, stored = find_employee(db, employee_id, field)
    if require_pin and (pin is None or not pin_matches(pin, stored)):
        raise NotAllowed(field, f"wrong or missing PIN for employee {employee_id}")
    return employee


def manager_approval(db: Database, request: dict[str, Any], action: str) -> Employee:
    """A manager's approval carried in ``request["manager"]`` = ``{"employee_id", "pin"}``;
    the PIN is always checked."""
    value = request.get("manager")
    if value is None:
        raise NotAllowed("manager", f"{action} needs a manager's approval: add "
                                    "\"manager\": {\"employee_id\": ..., \"pin\": ...}")
    employee_id, pin = _id_and_pin(value, "manager")
    employee, stored = find_employee(db, employee_id, "manager.employee_id")
    if employee.role != "manager":
        raise NotAllowed("manager", f"employee {employee_id} is not a manager")
    if pin is None or not pin_matches(pin, stored):
        raise NotAllowed("manager.pin", f"wrong or missing PIN for manager {employee_id}")
    return employee


def _id_and_pin(value: Any, field: str) -> tuple[str, str | None]:
    if isinstance(value, str) and 0 < len(value) <= 32:
        return value, None
    if isinstance(value, dict) and isinstance(value.get("employee_id"), str) and \
            0 < len(value["employee_id"]) <= 32:
        pin = value.get("pin")
        return value["employee_id"], pin if isinstance(pin, str) else None
    from store_agent.errors import InvalidSale

    raise InvalidSale(field, "required: an employee id, or {\"employee_id\": ..., \"pin\": ...}")


def import_employees_csv(db: Database, path: Path) -> int:
    """Load employees from ``employee_id,name,role,pin``; all rows or none."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogImportError([f"{path}: cannot read ({exc})"]) from exc
    reader = csv.DictReader(io.StringIO(text))
    rows, errors = [], []
    for line_no, row in enumerate(reader, start=2):
        employee_id = (row.get("employee_id") or "").strip()
        name = (row.get("name") or "").strip()
        role = (row.get("role") or "").strip()
        pin = (row.get("pin") or "").strip()
        if not employee_id or not name:
            errors.append(f"{path.name}:{line_no}: employee_id and name are required")
        elif role not in ROLES:
            errors.append(f"{path.name}:{line_no}: role must be one of {sorted(ROLES)}")
        elif not (pin.isdigit() and 4 <= len(pin) <= 8):
            errors.append(f"{path.name}:{line_no}: pin must be 4-8 digits")
        else:
            rows.append({"employee_id": employee_id, "name": name, "role": role,
                         "pin_hash": hash_pin(pin), "active": 1})
    if errors or not rows:
        raise CatalogImportError(errors or [f"{path}: no employees found"])
    with write_transaction(db):
        db.table("employees").upsert_all(rows, pk="employee_id")
    return len(rows)
