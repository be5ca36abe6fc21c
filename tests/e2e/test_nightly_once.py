"""The nightly jobs (the books', then payroll's) run once per slot with two server processes
on one PostgreSQL database: both fire them every second, one of them runs each slot and the
other sees it taken; the runs are visible in the API with what they did."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from backoffice.demo.processes import Service, free_port, run_command, start_service, stop_service

pytestmark = pytest.mark.postgres
TOKEN = re.compile(r"\b(boa_[A-Za-z0-9_-]{20,})")


async def test_two_processes_run_each_nightly_slot_once(tmp_path: Path,
                                                        postgres_url: str) -> None:
    ports = free_port(), free_port()
    configs = []
    for n, port in enumerate(ports):
        folder = tmp_path / f"server-{n}"
        folder.mkdir()
        path = folder / "server.toml"
        path.write_text(f'[http]\nport = {port}\n\n[database]\nurl = "{postgres_url}"\n\n'
                        '[accounting]\nnightly_interval_seconds = 1\n\n'
                        '[logging]\nlevel = "info"\nformat = "text"\n', encoding="utf-8")
        configs.append(path)
    status, output = await run_command(["server", "init", "--config", str(configs[0])])
    assert status == 0, output
    admin = {"Authorization": f"Bearer {TOKEN.findall(output)[0]}"}
    services: list[Service] = []
    started = time.monotonic()
    try:
        for n, (port, config) in enumerate(zip(ports, configs, strict=True)):
            services.append(await start_service(
                f"server-{n}", ["server", "run", "--config", str(config)],
                f"http://127.0.0.1:{port}", config.parent / "server.log"))
        await asyncio.sleep(6)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{services[0].url}/api/v1/books/jobs?limit=100",
                                   headers=admin) as resp:
                runs = (await resp.json())["items"]
            async with session.get(f"{services[1].url}/api/v1/payroll/jobs",
                                   headers=admin) as resp:
                payroll_runs = (await resp.json())["items"]
        seconds = time.monotonic() - started
    finally:
        for service in services:
            await stop_service(service)
    slots = Counter(run["slot"] for run in runs)
    assert {run["job"] for run in runs} == {"books.nightly"}
    assert len(runs) >= 3, runs
    # payroll's job follows the books' one in each slot, also once across the processes
    payroll_slots = Counter(run["slot"] for run in payroll_runs)
    assert len(payroll_runs) >= 2 and all(n == 1 for n in payroll_slots.values()), payroll_slots
    assert all(count == 1 for count in slots.values()), slots  # never twice
    assert len(runs) <= seconds + 1  # one a second, not two
    finished = [r for r in runs if r["outcome"] != "running"]
    assert all(r["outcome"] == "ok" and r["detail"]["differences"] == 0 for r in finished)
    logs = "".join((c.parent / "server.log").read_text(errors="replace") for c in configs)
    assert "already run by another process" in logs  # the other process fired and stood down
