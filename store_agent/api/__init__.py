"""The POS terminal API (JSON under /api/v1), one route table per business area."""

from store_agent.api.cash import routes as cash_routes
from store_agent.api.openapi import routes as openapi_routes
from store_agent.api.operations import routes as operations_routes
from store_agent.api.sales import routes as sales_routes
from store_agent.api.status import routes as status_routes

ROUTE_TABLES = (status_routes, sales_routes, cash_routes, operations_routes, openapi_routes)

__all__ = ["ROUTE_TABLES"]
