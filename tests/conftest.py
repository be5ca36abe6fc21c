"""Shared fixtures: central databases (SQLite file and real PostgreSQL), settings builders,
a catalog, and the rule that PostgreSQL tests may not be skipped under CI=true."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from config import AgentSettings, ServerSettings, load_agent_settings, load_server_settings

PG_ADMIN_DSN = os.environ.get("BACKOFFICE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
CATALOG_CSV = """sku,name,price,tax_rate,barcodes
1001,Whole milk 1 l,1.29,7,4006381333931
1002,Rye bread,2.49,7,4012345000016|4012345000023
2001,Dish soap,1.99,19,4012345000061
3001,Red wine 0.75 l,8.99,19,
1005,Bananas (kg),1.69,7,
"""
TERMINAL_TOKENS = {"T1": "terminal-one-test-token", "T2": "terminal-two-test-token"}

_skipped_postgres: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "postgres" in report.keywords:
        _skipped_postgres.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") == "true" and _skipped_postgres:
        print(f"\nCI=true but {len(_skipped_postgres)} PostgreSQL test(s) were skipped, e.g. "
              f"{_skipped_postgres[0]}: is PostgreSQL running at 127.0.0.1:5432?")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


async def _pg_admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}")


@contextlib.asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"backoffice_test_{uuid.uuid4().hex[:12]}"
    admin = await _pg_admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin = await _pg_admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The central database URL: an SQLite file, and then a real PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
    else:
        async with fresh_postgres_database() as url:
            yield url


def write_server_config(folder: Path, database_url: str, port: int = 0, extra: str = "") -> Path:
    path = folder / "server.toml"
    path.write_text(f'[http]\nport = {port}\n\n[database]\nurl = "{database_url}"\n\n'
                    f'[logging]\nlevel = "warning"\n{extra}', encoding="utf-8")
    return path


def write_store_config(folder: Path, store_id: str = "S001", head_office_url: str =
                       "http://127.0.0.1:9", sync_token: str = "bos_" + "x" * 40, port: int = 0,
                       timezone: str = "Europe/Berlin", extra: str = "",
                       background_sync: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    terminals = "\n".join(f'{k} = "{v}"' for k, v in TERMINAL_TOKENS.items())
    path = folder / "store.toml"
    path.write_text(
        f'[store]\nid = "{store_id}"\ntimezone = "{timezone}"\n\n'
        f'[head_office]\nurl = "{head_office_url}"\nsync_token = "{sync_token}"\n'
        f'timeout_seconds = 5\n\n[terminals]\n{terminals}\n\n[http]\nport = {port}\n\n'
        f'[sync]\nenabled = {str(background_sync).lower()}\n\n'
        f'[logging]\nlevel = "warning"\n{extra}', encoding="utf-8")
    return path


@pytest.fixture
def catalog_csv(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG_CSV, encoding="utf-8")
    return path


@pytest.fixture
def server_settings(tmp_path: Path, central_url: str) -> ServerSettings:
    return load_server_settings(write_server_config(tmp_path, central_url), env={})


@pytest.fixture
def agent_settings_factory(tmp_path: Path) -> Iterator[object]:
    def make(store_id: str = "S001", head_office_url: str = "http://127.0.0.1:9",
             sync_token: str = "bos_" + "x" * 40, extra: str = "") -> AgentSettings:
        folder = tmp_path / store_id
        return load_agent_settings(write_store_config(folder, store_id, head_office_url,
                                                      sync_token, extra=extra), env={})
    yield make
