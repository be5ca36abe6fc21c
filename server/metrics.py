"""Prometheus metrics at ``/metrics`` (prometheus-client), one registry per application.

Request counts and latencies, and events ingested, are this process's own (with several
``server run`` processes, Prometheus sums them). The per-store figures — sync lag, events
behind, clock skew, open reconciliation items — are read from the database at each scrape, so
every process reports the same truth.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from backoffice.problems import Handler
from server import keys
from server.storage.tables import reconciliation_items, stores


class Metrics:
    """The application's instruments."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("backoffice_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("backoffice_http_request_seconds", "Time to answer a request",
                                 ["route"], registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.events_ingested = Counter("backoffice_events_ingested",
                                       "Store events newly accepted by push", ["store_id"],
                                       registry=self.registry)
        self.push_rejected = Counter("backoffice_push_rejected",
                                     "Push batches answered with an error", ["status"],
                                     registry=self.registry)
        self.lag = Gauge("backoffice_store_sync_lag_seconds",
                         "Seconds since the store last pushed", ["store_id"],
                         registry=self.registry)
        self.behind = Gauge("backoffice_store_events_behind",
                            "Events the store holds that head office has not got yet (as the "
                            "store last reported)", ["store_id"], registry=self.registry)
        self.high_water = Gauge("backoffice_store_high_water_seq",
                                "The store's last seq head office holds", ["store_id"],
                                registry=self.registry)
        self.skew = Gauge("backoffice_store_clock_skew_seconds",
                          "How far the store's clock runs ahead of head office's",
                          ["store_id"], registry=self.registry)
        self.open_items = Gauge("backoffice_reconciliation_items_open",
                                "Open reconciliation items", ["store_id"],
                                registry=self.registry)


METRICS = web.AppKey("metrics", Metrics)


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request by its route template (not its raw path)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        metrics = request.app[METRICS]
        metrics.requests.labels(request.method, name, str(status)).inc()
        metrics.latency.labels(name).observe(time.perf_counter() - started)


routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics_page(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    async with request.app[keys.STORAGE].read() as conn:
        rows = (await conn.execute(sa.select(stores.c.store_id, stores.c.high_water,
                                             stores.c.head_seq, stores.c.last_seen_at,
                                             stores.c.clock_skew_s))).all()
        open_items = {row.store_id: int(row.open) for row in await conn.execute(
            sa.select(reconciliation_items.c.store_id, sa.func.count().label("open"))
            .where(reconciliation_items.c.status == "open")
            .group_by(reconciliation_items.c.store_id))}
    now = datetime.now(UTC)
    for gauge in (metrics.lag, metrics.behind, metrics.high_water, metrics.skew,
                  metrics.open_items):
        gauge.clear()
    for row in rows:
        store_id = row.store_id
        metrics.high_water.labels(store_id).set(row.high_water)
        if row.last_seen_at is not None:
            seen = row.last_seen_at if row.last_seen_at.tzinfo else \
                row.last_seen_at.replace(tzinfo=UTC)
            metrics.lag.labels(store_id).set((now - seen).total_seconds())
        if row.head_seq is not None:
            metrics.behind.labels(store_id).set(max(0, row.head_seq - row.high_water))
        if row.clock_skew_s is not None:
            metrics.skew.labels(store_id).set(row.clock_skew_s)
        metrics.open_items.labels(store_id).set(open_items.get(store_id, 0))
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
