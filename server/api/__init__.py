"""The head-office web API (JSON under /api/v1)."""

from server.api.catalog import routes as catalog_routes
from server.api.reconciliation import routes as reconciliation_routes
from server.api.sales import routes as sales_routes
from server.api.stores import routes as stores_routes

__all__ = ["catalog_routes", "reconciliation_routes", "sales_routes", "stores_routes"]
