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
