"""The central database engine: SQLite through aiosqlite (embedded default) or PostgreSQL
through asyncpg, chosen by the configured URL.

SQLite allows one writer at a time, so writes in one process queue on an asyncio lock rather
than fight over the file lock; PostgreSQL writes rely on row locks (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def async_url(url: str) -> str:
    """Map the configured URL to the async driver SQLAlchemy should use."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    if url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://"):]
    return url


class Storage:
    """The engine plus the write discipline of its dialect."""

    @classmethod
    def for_settings(cls, settings: Any) -> Storage:
        """The storage a server's :class:`config.DatabaseSettings` describe."""
        return cls(settings.url, pool_size=settings.pool_size,
                   max_overflow=settings.max_overflow,
                   pool_timeout=settings.pool_timeout_seconds,
                   statement_timeout=settings.statement_timeout_seconds)

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10,
                 pool_timeout: float = 10.0, statement_timeout: float = 30.0) -> None:
        self.url = url
        target = async_url(url)
        self.is_sqlite = target.startswith("sqlite")
        # orjson: JSON documents (every event's payload) are encoded several times faster
        # than with the standard library, which showed in ingesting a big backlog.
        options: dict[str, Any] = {"pool_pre_ping": True, "json_serializer": _json_text,
                                   "json_deserializer": orjson.loads}
        if not self.is_sqlite:
            # Timeouts enforced by PostgreSQL itself: a statement or lock wait past the limit
            # fails there and the transaction rolls back, leaving the connection usable —
            # never a query abandoned half-way on the client side.
            millis = str(int(statement_timeout * 1000))
            options.update(pool_size=pool_size, max_overflow=max_overflow,
                           pool_timeout=pool_timeout, connect_args={"server_settings": {
                               "statement_timeout": millis, "lock_timeout": millis,
                               "idle_in_transaction_session_timeout": millis}})
        else:
            # The most recently used connection first: writes, one at a time, then keep
            # reusing one connection and its compiled statements (see bulk.SQLITE_ROWS)
            # instead of warming every connection of the pool in turn.
            options["pool_use_lifo"] = True
        self.engine: AsyncEngine = create_async_engine(target, **options)
        self._write_lock = asyncio.Lock()
        if self.is_sqlite:
            _configure_sqlite(self.engine, int(statement_timeout * 1000))

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        if self.is_sqlite:
            # BEGIN IMMEDIATE: take SQLite's write lock first (waiting up to busy_timeout), so
            # a transaction never reads and then fails to upgrade to a writer.
            async with self._write_lock, self.engine.connect() as conn:
                await conn.execution_options(sqlite_write=True)
                async with conn.begin():
                    yield conn
        else:
            async with self.engine.begin() as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("sqlite_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
