"""Push admission: a fixed number of batches are applied at once, a bounded number wait their
turn, and the rest are told at once to come back (503, Retry-After) with nothing read — so a
crowd of stores returning together is served, not timed out together."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from config import load_server_settings
from server import create_app
from sync import CONTENT_TYPE, PUSH_PATH
from tests.integration.helpers import batch, chained, sales_facts, set_up_head_office


async def test_a_full_queue_answers_503_at_once_and_the_rest_are_applied(
        tmp_path: Path, aiohttp_client: Any) -> None:
    path = tmp_path / "server.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "central.db"}"\n'
                    'statement_timeout_seconds = 10\n\n[sync]\nmax_concurrent_pushes = 1\n'
                    'max_waiting_pushes = 1\n\n[logging]\nlevel = "warning"\n',
                    encoding="utf-8")
    settings = load_server_settings(path, env={})
    office = await set_up_head_office(settings, ("S001", "S002", "S003"))
    server = await aiohttp_client(create_app(settings))

    async def push(store_id: str) -> tuple[int, dict[str, str], bytes]:
        resp = await server.post(PUSH_PATH, data=batch(store_id, chained(store_id,
                                                                         sales_facts(3))),
                                 headers={**office.store(store_id),
                                          "Content-Type": CONTENT_TYPE})
        return resp.status, dict(resp.headers), await resp.read()

    # A backup holds the database for a moment: the first push takes the only turn and waits
    # on the database, the second waits for a turn, the third finds the queue full.
    blocker = sqlite3.connect(tmp_path / "central.db", timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    first = asyncio.create_task(push("S001"))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(push("S002"))
    await asyncio.sleep(0.2)
    status, headers, body = await push("S003")
    assert status == 503 and int(headers["Retry-After"]) >= 1, body
    assert b"push batches are waiting" in body
    assert not first.done() and not second.done()
    blocker.rollback()
    blocker.close()
    assert (await first)[0] == 200 and (await second)[0] == 200
    status, _, _ = await push("S003")  # the store that was told to come back
    assert status == 200
    resp = await server.get("/metrics")
    assert 'backoffice_push_rejected_total{status="503"} 1.0' in await resp.text()
