"""The head-office web API (JSON under /api/v1)."""

from server.api.sales import routes as sales_routes
from server.api.stores import routes as stores_routes

__all__ = ["sales_routes", "stores_routes"]
