"""Opening the ledger file and owning its one write connection.

The file runs in WAL mode with ``synchronous=FULL``: a sale the API confirmed is on disk
before the answer leaves, and survives a power cut. Async code never touches SQLite on the
event loop; it hands a function to :class:`Ledger`, whose single thread runs it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from store_agent.errors import (
    LedgerBelongsToAnotherStore,
    LedgerFull,
    LedgerNotInitialised,
)
from store_agent.ledger.schema import migrations

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000


def connect(path: Path, max_size_mb: int = 0) -> Database:
    """Open the ledger file with the durability pragmas and bring its schema up to date.

    ``max_size_mb`` caps the file (``max_page_count``): at the cap a write fails with
    SQLITE_FULL, which :func:`write_transaction` rolls back and reports as ``LedgerFull``.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=True)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = Database(conn)
    migrations.apply(db)
    if max_size_mb:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max_size_mb * 1024 * 1024 // page_size}")
    return db


def create_ledger(path: Path, store_id: str, created_at: str) -> bool:
    """Create (or migrate) the ledger for ``store_id``; False when it already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    try:
        existing = _meta(db, "store_id")
        if existing is not None:
            if existing != store_id:
                raise LedgerBelongsToAnotherStore(path, existing, store_id)
            return False
        with write_transaction(db):
            db.table("ledger_meta").insert_all([{"key": "store_id", "value": store_id},
                                          {"key": "created_at", "value": created_at}])
            db.table("sync_state").insert({"id": 1, "acked_seq": 0, "acked_hash": "0" * 64})
        return True
    finally:
        db.close()


def open_ledger(path: Path, store_id: str, max_size_mb: int = 0) -> Database:
    """Open an existing ledger and check that it belongs to ``store_id``."""
    if not path.exists():
        raise LedgerNotInitialised(path)
    db = connect(path, max_size_mb)
    owner = _meta(db, "store_id")
    if owner is None:
        db.close()
        raise LedgerNotInitialised(path)
    if owner != store_id:
        db.close()
        raise LedgerBelongsToAnotherStore(path, owner, store_id)
    return db


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """One unit of work under ``BEGIN IMMEDIATE``: applied whole or not at all."""
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        if "full" in str(exc).lower():
            raise LedgerFull(str(exc)) from exc
        raise


def _meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM ledger_meta WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


class Ledger:
    """The agent's one writer: a single thread owns the connection and runs submitted work."""

    def __init__(self, path: Path, store_id: str, max_size_mb: int = 0) -> None:
        self.path = path
        self.store_id = store_id
        self.max_size_mb = max_size_mb
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-writer")
        self._db: Database | None = None

    async def open(self) -> None:
        self._db = await self._submit(lambda: open_ledger(self.path, self.store_id,
                                                          self.max_size_mb))

    async def run(self, work: Callable[[Database], T]) -> T:
        """Run ``work(db)`` on the writer thread and return its result."""
        db = self._db
        if db is None:
            raise RuntimeError("ledger is not open")
        return await self._submit(lambda: work(db))

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await self._submit(db.close)
        self._executor.shutdown(wait=True)

    async def _submit(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)
