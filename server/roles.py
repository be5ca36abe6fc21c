"""Head-office roles and what each may do: one table, read by the auth middleware, the OpenAPI
document and the role-matrix test.

Every head-office route declares one permission with :func:`requires`; a route that declares
none is refused to everyone (fail closed), so a new route cannot ship unguarded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

from aiohttp import web

ADMIN, MANAGER, ACCOUNTANT, PAYROLL, AUDITOR = "admin", "manager", "accountant", "payroll", \
    "auditor"
ROLES: tuple[str, ...] = (ADMIN, MANAGER, ACCOUNTANT, PAYROLL, AUDITOR)


class Permission(StrEnum):
    STORES_READ = "stores.read"
    STORES_WRITE = "stores.write"
    CATALOG_READ = "catalog.read"
    CATALOG_WRITE = "catalog.write"
    EMPLOYEES_READ = "employees.read"
    EMPLOYEES_WRITE = "employees.write"
    INVENTORY_READ = "inventory.read"
    INVENTORY_WRITE = "inventory.write"
    SALES_READ = "sales.read"
    RECONCILIATION_READ = "reconciliation.read"
    RECONCILIATION_RESOLVE = "reconciliation.resolve"
    TOKENS_MANAGE = "tokens.manage"
    AUDIT_READ = "audit.read"
    BOOKS_READ = "books.read"
    BOOKS_WRITE = "books.write"
    PAYROLL_READ = "payroll.read"
    PAYROLL_WRITE = "payroll.write"
    PAYROLL_APPROVE = "payroll.approve"
    TIME_READ = "time.read"
    TIME_APPROVE = "time.approve"


_READERS = frozenset({ADMIN, MANAGER, ACCOUNTANT, AUDITOR})

# Who holds each permission. The auditor reads everything and changes nothing; payroll sees
# and keeps employees (pay data comes with the payroll issue); accountants read the figures
# and resolve reconciliation items; managers run catalog, prices, inventory and staff. The
# books are read by accountants and auditors and kept by accountants (manual entries,
# accounts, closing months and years).
GRANTS: dict[Permission, frozenset[str]] = {
    Permission.STORES_READ: _READERS,
    Permission.STORES_WRITE: frozenset({ADMIN}),
    Permission.CATALOG_READ: _READERS,
    Permission.CATALOG_WRITE: frozenset({ADMIN, MANAGER}),
    Permission.EMPLOYEES_READ: frozenset({ADMIN, MANAGER, PAYROLL, AUDITOR}),
    Permission.EMPLOYEES_WRITE: frozenset({ADMIN, MANAGER, PAYROLL}),
    Permission.INVENTORY_READ: _READERS,
    Permission.INVENTORY_WRITE: frozenset({ADMIN, MANAGER}),
    Permission.SALES_READ: _READERS,
    Permission.RECONCILIATION_READ: _READERS,
    Permission.RECONCILIATION_RESOLVE: frozenset({ADMIN, MANAGER, ACCOUNTANT}),
    Permission.TOKENS_MANAGE: frozenset({ADMIN}),
    Permission.AUDIT_READ: frozenset({ADMIN, AUDITOR}),
    Permission.BOOKS_READ: frozenset({ADMIN, ACCOUNTANT, AUDITOR}),
    Permission.BOOKS_WRITE: frozenset({ADMIN, ACCOUNTANT}),
    # Payroll: the payroll team keeps pay profiles and drafts runs; only the payroll role
    # approves and posts them (and reads bank details through the direct-deposit file).
    # Managers correct and approve their stores' hours.
    Permission.PAYROLL_READ: frozenset({ADMIN, PAYROLL, AUDITOR}),
    Permission.PAYROLL_WRITE: frozenset({ADMIN, PAYROLL}),
    Permission.PAYROLL_APPROVE: frozenset({PAYROLL}),
    Permission.TIME_READ: frozenset({ADMIN, MANAGER, PAYROLL, AUDITOR}),
    Permission.TIME_APPROVE: frozenset({ADMIN, MANAGER, PAYROLL}),
}

_PERMISSION_ATTR = "__backoffice_permission__"
HandlerT = TypeVar("HandlerT", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])


def requires(permission: Permission) -> Callable[[HandlerT], HandlerT]:
    """Mark a route handler with the permission a caller's role must grant."""
    def mark(handler: HandlerT) -> HandlerT:
        setattr(handler, _PERMISSION_ATTR, permission)
        return handler
    return mark


def permission_of(handler: object) -> Permission | None:
    """The permission a handler declared, or None."""
    value = getattr(handler, _PERMISSION_ATTR, None)
    return value if isinstance(value, Permission) else None


def allowed(role: str, permission: Permission) -> bool:
    return role in GRANTS[permission]


def holders(permission: Permission) -> list[str]:
    """The roles that hold ``permission``, in the order of :data:`ROLES`."""
    return [role for role in ROLES if role in GRANTS[permission]]
