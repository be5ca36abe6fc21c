"""The central schema on SQLite and PostgreSQL: the migrations build exactly the tables the
code declares, the server refuses to start on an un-migrated database, and ``init_database``
is safe to run again."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from config import ServerSettings
from server import create_app
from server.admin import init_database
from server.errors import DatabaseNotMigrated
from server.storage import Storage, current_revision, head_revision, upgrade_to_head
from server.storage.tables import api_tokens, metadata


def _schema_diff(sync_conn: Any) -> list[Any]:
    context = MigrationContext.configure(sync_conn, opts={
        "compare_type": True, "compare_server_default": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_build_exactly_the_declared_schema(central_url: str) -> None:
    storage = Storage(central_url)
    try:
        before, after = await upgrade_to_head(storage)
        assert (before, after) == (None, head_revision())
        assert await current_revision(storage) == head_revision()
        async with storage.read() as conn:
            diff = await conn.run_sync(_schema_diff)
            tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
        assert diff == []
        assert set(metadata.tables) <= tables and "alembic_version" in tables
        # Upgrading a database already at head changes nothing.
        assert await upgrade_to_head(storage) == (head_revision(), head_revision())
    finally:
        await storage.dispose()


async def test_the_server_refuses_to_start_on_an_unmigrated_database(
        server_settings: ServerSettings) -> None:
    # What the aiohttp_client fixture does, but closing the client whose start failed (the
    # fixture would leave its ClientSession unclosed, a ResourceWarning, hence an error here).
    client = TestClient(TestServer(create_app(server_settings)))
    try:
        with pytest.raises(DatabaseNotMigrated, match="revision none") as refused:
            await client.start_server()
    finally:
        await client.close()
    assert head_revision() in str(refused.value)
    assert "backoffice server init" in str(refused.value)
    storage = Storage(server_settings.database.url)
    try:
        assert await current_revision(storage) is None  # the failed start created nothing
    finally:
        await storage.dispose()


async def test_init_twice_issues_the_admin_token_once(server_settings: ServerSettings,
                                                      aiohttp_client: Any) -> None:
    storage = Storage(server_settings.database.url)
    try:
        first = await init_database(storage)
        second = await init_database(storage)
        async with storage.read() as conn:
            tokens = (await conn.execute(sa.select(api_tokens.c.name, api_tokens.c.role))).all()
    finally:
        await storage.dispose()
    assert first.admin_token is not None and first.admin_token.startswith("boa_")
    assert (first.revision_before, first.revision_after) == (None, head_revision())
    assert second.admin_token is None
    assert (second.revision_before, second.revision_after) == (head_revision(), head_revision())
    assert [tuple(t) for t in tokens] == [("first admin", "admin")]
    # The one token issued works; the server starts on the migrated database.
    server = await aiohttp_client(create_app(server_settings))
    resp = await server.get("/api/v1/stores",
                            headers={"Authorization": f"Bearer {first.admin_token}"})
    assert resp.status == 200 and (await resp.json())["items"] == []


async def test_upgrading_a_database_with_sales_fills_the_new_report_columns(
        central_url: str) -> None:
    """0006 summarises the sales already held, gives them their local hour and their tenders
    a net of change, so reports cover history from before the upgrade."""
    from alembic import command

    from server.storage.migrate import alembic_config

    storage = Storage(central_url)
    try:
        async with storage.write() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0005"))
            await conn.execute(sa.text(
                "INSERT INTO stores (store_id, name, timezone, token_hash, enrolled_at, "
                "high_water, last_hash) VALUES ('S001', 'Main', 'America/New_York', 'h', "
                "'2026-11-01T00:00:00+00:00', 0, 'x')"))
            for sale_row, (recorded, total, change) in enumerate(
                    (("2026-11-24T15:30:00.000000Z", 1026, 974),
                     ("2026-11-24T23:10:00.000000Z", 500, 0)), start=1):
                await conn.execute(sa.text(
                    "INSERT INTO sales (id, sale_id, store_id, seq, terminal_id, receipt_no, "
                    "business_date, recorded_at, cashier, currency, subtotal_minor, tax_minor, "
                    "total_minor, change_due_minor, line_count) VALUES (:id, :sale_id, 'S001', "
                    ":id, 'T1', :id, '2026-11-24', :recorded, 'E1', 'USD', :total, 0, :total, "
                    ":change, 0)"), {"id": sale_row, "sale_id": f"sale-{sale_row}",
                                     "recorded": recorded, "total": total, "change": change})
                await conn.execute(sa.text(
                    "INSERT INTO sale_tenders (sale_row, tender_no, type, amount_minor, "
                    "reference) VALUES (:id, 1, 'card', 26, ''), (:id, 2, 'cash', :cash, '')"),
                    {"id": sale_row, "cash": total - 26 + change})
        await upgrade_to_head(storage)
        async with storage.read() as conn:
            hours = (await conn.execute(sa.text(
                "SELECT local_hour FROM sales ORDER BY id"))).scalars().all()
            nets = (await conn.execute(sa.text(
                "SELECT net_minor FROM sale_tenders ORDER BY sale_row, tender_no"))).scalars().all()
            daily = (await conn.execute(sa.text(
                "SELECT sales_count, total_minor FROM sales_daily"))).one()
    finally:
        await storage.dispose()
    assert hours == [10, 18]  # New York time, not UTC
    assert nets == [26, 1000, 26, 474]  # cash net of the change given
    assert tuple(daily) == (2, 1526)


async def test_sale_costs_move_to_their_event_key_and_back(central_url: str) -> None:
    """0013 keys sale costs by (store, seq): a sale the projection holds for that very event
    is found through it (no lookup id); one it cannot hold — an id another store used first —
    keeps its id for the partial index. Downgrading puts every row back by sale id."""
    from alembic import command

    from server.storage.migrate import alembic_config

    lines = '{"1": {"sku": "A", "qty_milli": 1000, "cost_minor": 250, "tax_rate": "7"}}'
    storage = Storage(central_url)
    try:
        async with storage.write() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0012"))
            for store in ("S001", "S002"):
                await conn.execute(sa.text(
                    "INSERT INTO stores (store_id, name, timezone, token_hash, enrolled_at, "
                    "high_water, last_hash) VALUES (:store, 'Shop', 'UTC', :store, "
                    "'2026-11-01T00:00:00+00:00', 0, 'x')"), {"store": store})
            await conn.execute(sa.text(
                "INSERT INTO sales (id, sale_id, store_id, seq, terminal_id, receipt_no, "
                "business_date, recorded_at, cashier, currency, subtotal_minor, tax_minor, "
                "total_minor, change_due_minor, line_count) VALUES (1, 'sale-x', 'S001', 5, "
                "'T1', 1, '2026-11-24', '2026-11-24T10:00:00.000000Z', 'E1', 'USD', 500, 0, "
                "500, 0, 1)"))
            await conn.execute(sa.text(
                "INSERT INTO sale_costs (store_id, sale_id, seq, lines) VALUES "
                "('S001', 'sale-x', 5, :lines), ('S002', 'sale-x', 9, :lines), "
                "('S002', 'sale-y', 12, :lines)"), {"lines": lines})
        await upgrade_to_head(storage)
        query = "SELECT store_id, seq, sale_id, lookup_id FROM sale_costs ORDER BY store_id, seq"
        async with storage.read() as conn:
            upgraded = [tuple(r) for r in await conn.execute(sa.text(query))]
            held = (await conn.execute(sa.text(
                "SELECT lines FROM sale_costs WHERE store_id = 'S002' AND seq = 12"))).scalar()
        async with storage.write() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0012"))
            downgraded = [tuple(r) for r in await conn.execute(sa.text(
                "SELECT store_id, sale_id, seq FROM sale_costs ORDER BY store_id, sale_id"))]
    finally:
        await storage.dispose()
    assert upgraded == [("S001", 5, "sale-x", None),  # found through the projection
                        ("S002", 9, "sale-x", "sale-x"),  # S001 holds the id there
                        ("S002", 12, "sale-y", "sale-y")]  # not projected at all
    assert "cost_minor" in str(held)
    assert downgraded == [("S001", "sale-x", 5), ("S002", "sale-x", 9), ("S002", "sale-y", 12)]
