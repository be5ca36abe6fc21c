"""Operating head office: structured JSON logs, graceful shutdown in the middle of a push
(the batch commits whole or not at all), and a database too busy to answer in time (locked by
another process past the statement timeout) gives a 503 to retry, with nothing kept."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from backoffice.demo.processes import free_port, run_command, start_service
from config import load_server_settings
from server import create_app
from server.storage import Storage
from server.storage.tables import store_events
from sync import CONTENT_TYPE, PUSH_PATH
from tests.integration.helpers import batch, chained, sales_facts, set_up_head_office

TOKEN_PREFIXES = ("boa_", "bos_")


def _config(folder: Path, port: int, database: str = "") -> Path:
    path = folder / "server.toml"
    path.write_text(f'[http]\nport = {port}\n\n[database]\nurl = '
                    f'"sqlite:///{folder / "central.db"}"\n{database}\n[logging]\n'
                    f'level = "info"\nformat = "json"\n', encoding="utf-8")
    return path


async def _tokens(config: Path) -> tuple[str, str]:
    status, output = await run_command(["server", "init", "--config", str(config)])
    assert status == 0, output
    admin = next(w for w in output.split() if w.startswith("boa_"))
    status, output = await run_command(["server", "enroll-store", "S001", "--name", "Main",
                                        "--timezone", "UTC", "--config", str(config)])
    assert status == 0, output
    return admin, next(w for w in output.split() if w.startswith("bos_"))


async def _held(folder: Path) -> int:
    storage = Storage(f"sqlite:///{folder / 'central.db'}")
    try:
        async with storage.read() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(
                store_events))).scalar_one())
    finally:
        await storage.dispose()


async def test_json_logs_and_a_graceful_stop_mid_push(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, port)
    admin, store_token = await _tokens(config)
    url = f"http://127.0.0.1:{port}"
    service = await start_service("server", ["server", "run", "--config", str(config)], url,
                                  tmp_path / "server.log")
    events = chained("S001", sales_facts(2000))
    body = batch("S001", events)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/api/v1/stores",
                               headers={"Authorization": f"Bearer {admin}"}) as resp:
            assert resp.status == 200

        async def push() -> int | str:
            try:
                async with session.post(f"{url}{PUSH_PATH}", data=io.BytesIO(body), headers={
                        "Authorization": f"Bearer {store_token}",
                        "Content-Type": CONTENT_TYPE}) as resp:
                    await resp.read()
                    return resp.status
            except aiohttp.ClientError as exc:
                return type(exc).__name__

        pushing = asyncio.create_task(push())
        await asyncio.sleep(0.3)  # the batch is being applied
        service.process.send_signal(signal.SIGTERM)
        outcome = await pushing
        assert await asyncio.wait_for(service.process.wait(), 60) == 0
    held = await _held(tmp_path)
    # Whole or nothing: never a part of the batch.
    assert held in (0, 2000), held
    if outcome == 200:
        assert held == 2000

    lines = (tmp_path / "server.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records, lines
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
    access = [r for r in records if r.get("path") == "/api/v1/stores"]
    assert access and access[0]["status"] == 200 and access[0]["method"] == "GET"
    assert isinstance(access[0]["duration_ms"], float)
    assert not any(prefix in line for line in lines for prefix in TOKEN_PREFIXES)


async def test_a_locked_database_is_503_busy_and_keeps_nothing(
        tmp_path: Path, aiohttp_client: Any) -> None:
    config = _config(tmp_path, 0, "statement_timeout_seconds = 1\n")
    settings = load_server_settings(config, env={})
    office = await set_up_head_office(settings)
    server = await aiohttp_client(create_app(settings))
    events = chained("S001", sales_facts(3))
    # Another process holds the database's write lock (a backup tool, say) for 2 s.
    blocker = sqlite3.connect(tmp_path / "central.db", timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    released = asyncio.get_running_loop().call_later(2, blocker.rollback)
    try:
        resp = await server.post(PUSH_PATH, data=batch("S001", events), headers={
            **office.store(), "Content-Type": CONTENT_TYPE})
        problem = await resp.json(content_type=None)
        assert resp.status == 503, problem
        assert "busy" in problem["detail"] and "locked" in problem["detail"]
        assert resp.headers["Retry-After"] == "2"
    finally:
        released.cancel()
        blocker.rollback()
        blocker.close()
    assert await _held(tmp_path) == 0
    resp = await server.post(PUSH_PATH, data=batch("S001", events), headers={
        **office.store(), "Content-Type": CONTENT_TYPE})
    assert resp.status == 200, await resp.text()
    assert await _held(tmp_path) == 3
