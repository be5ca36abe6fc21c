"""A PostgreSQL database too busy to answer in time is a 503 to retry, never a 500 and never a
stuck connection: a store's row locked by another session past lock_timeout, and no pooled
connection free within pool_timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from config import load_server_settings
from server import create_app
from sync import CONTENT_TYPE, PUSH_PATH
from tests.integration.helpers import batch, chained, high_water, sales_facts, set_up_head_office

pytestmark = pytest.mark.postgres


def _settings(folder: Path, url: str) -> Any:
    path = folder / "server.toml"
    path.write_text(f'[database]\nurl = "{url}"\npool_size = 1\nmax_overflow = 0\n'
                    'pool_timeout_seconds = 1\nstatement_timeout_seconds = 3\n\n'
                    '[logging]\nlevel = "warning"\n', encoding="utf-8")
    return load_server_settings(path, env={})


async def test_a_locked_store_and_an_exhausted_pool_answer_503(
        tmp_path: Path, postgres_url: str, aiohttp_client: Any) -> None:
    settings = _settings(tmp_path, postgres_url)
    office = await set_up_head_office(settings)
    server = await aiohttp_client(create_app(settings))
    events = chained("S001", sales_facts(3))
    headers = {**office.store(), "Content-Type": CONTENT_TYPE}
    # Another session (an operator's psql) holds the store's row.
    other = await asyncpg.connect(postgres_url.replace("postgresql://", "postgres://"))
    try:
        locker = other.transaction()
        await locker.start()
        await other.execute("SELECT * FROM stores WHERE store_id = 'S001' FOR UPDATE")
        async def push() -> Any:
            return await server.post(PUSH_PATH, data=batch("S001", events), headers=headers)

        pushing = asyncio.create_task(push())
        await asyncio.sleep(0.3)
        assert not pushing.done()
        # The push holds the only pooled connection while it waits for the lock: an API
        # request finds no free connection within a second.
        resp = await server.get("/api/v1/stores", headers=office.admin)
        problem = await resp.json(content_type=None)
        assert resp.status == 503, problem
        assert "no database connection came free" in problem["detail"]
        resp = await pushing
        problem = await resp.json(content_type=None)
        assert resp.status == 503, problem
        assert "lock wait took longer than 3 s" in problem["detail"]
        assert resp.headers["Retry-After"] == "2"
        await locker.rollback()
    finally:
        await other.close()
    # The connection came back clean: the retried push is applied, once.
    resp = await server.post(PUSH_PATH, data=batch("S001", events), headers=headers)
    assert resp.status == 200, await resp.text()
    assert await high_water(server, office) == 3
