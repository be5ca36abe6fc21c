"""The head-office web API (JSON under /api/v1)."""

from server.api.audit import routes as audit_routes
from server.api.books import routes as books_routes
from server.api.catalog import routes as catalog_routes
from server.api.inventory import routes as inventory_routes
from server.api.openapi import routes as openapi_routes
from server.api.payroll import routes as payroll_routes
from server.api.reconciliation import routes as reconciliation_routes
from server.api.reports import routes as reports_routes
from server.api.sales import routes as sales_routes
from server.api.stores import routes as stores_routes
from server.api.tokens import routes as tokens_routes
from server.api.transfers import routes as transfers_routes

ROUTE_TABLES = (stores_routes, sales_routes, catalog_routes, reconciliation_routes,
                tokens_routes, audit_routes, reports_routes, inventory_routes,
                transfers_routes, books_routes, payroll_routes, openapi_routes)

__all__ = ["ROUTE_TABLES"]
