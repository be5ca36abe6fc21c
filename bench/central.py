"""Helpers shared by the head-office benchmarks (``bench.server_ingest``, ``bench.reports``):
a fresh PostgreSQL database for one run, the server's TOML, ``backoffice server init`` and a
real ``backoffice server run`` process on a free loopback port, stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from backoffice.demo.processes import Service, free_port, run_command, start_service, stop_service
from bench.agent_sales import rss_mb

PG_ADMIN_DSN = os.environ.get("BACKOFFICE_BENCH_PG",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_TOKEN = re.compile(r"\b(boa_[A-Za-z0-9_-]{20,})")


@contextlib.asynccontextmanager
async def fresh_postgres_database(prefix: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the loopback server; dropped (FORCE) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def write_server_config(folder: Path, database_url: str, port: int, extra: str = "") -> Path:
    path = folder / "server.toml"
    path.write_text(f'[http]\nport = {port}\n\n[database]\nurl = "{database_url}"\n\n'
                    f'[logging]\nlevel = "warning"\n{extra}', encoding="utf-8")
    return path


async def server_init(config: Path) -> str | None:
    """``backoffice server init``: migrate; return the first admin token (None if not new)."""
    status, output = await run_command(["server", "init", "--config", str(config)])
    if status != 0:
        raise RuntimeError(f"backoffice server init failed ({status}):\n{output}")
    found = ADMIN_TOKEN.findall(output)
    return found[0] if found else None


@contextlib.asynccontextmanager
async def running_server(config: Path, port: int, log_path: Path) -> AsyncIterator[Service]:
    """A real ``backoffice server run`` process; SIGTERM (then SIGKILL) to its PID on exit."""
    service = await start_service("server", ["server", "run", "--config", str(config)],
                                  f"http://127.0.0.1:{port}", log_path)
    try:
        yield service
    finally:
        await stop_service(service)


class RssSampler:
    """Samples a process's VmRSS every ``interval`` seconds on a thread; ``peak_mb`` after."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def code_version() -> str:
    """The commit and the files changed since (others edit the server while benchmarks run)."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=repo).stdout.strip()
        dirty = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "--",
                                "server", "sync", "config", "backoffice"], capture_output=True,
                               text=True, check=True, cwd=repo).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return head + (f" + uncommitted {', '.join(changed)}" if changed else "")


__all__ = ["ADMIN_TOKEN", "PG_ADMIN_DSN", "RssSampler", "code_version", "free_port",
           "fresh_postgres_database", "running_server", "server_init", "write_server_config"]

