"""Opening the ledger file and owning its one write connection.

The file runs in WAL mode with ``synchronous=FULL``: a sale the API confirmed is on disk
before the answer leaves, and survives a power cut. Async code never touches SQLite on the
event loop; it hands a function to :class:`Ledger`, whose single thread runs it.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from store_agent.errors import (
    LedgerBelongsToAnotherStore,
    LedgerFull,
    LedgerNotInitialised,
)
from store_agent.ledger.schema import migrations

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000
_savepoints = itertools.count()


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
    """One unit of work, applied whole or not at all: ``BEGIN IMMEDIATE`` on its own, or a
    savepoint inside the writer's group transaction (see :class:`Ledger`)."""
    conn = db.conn
    if conn.in_transaction:
        name = f"unit_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            _raise_full(exc)
            raise
        conn.execute(f"RELEASE {name}")
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        _raise_full(exc)
        raise


def _raise_full(exc: BaseException) -> None:
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower():
        raise LedgerFull(str(exc)) from exc


def _meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM ledger_meta WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


class Ledger:
    """The agent's one writer, with group commit.

    A single thread owns the connection. Work submitted while it is busy queues up; the thread
    then runs the whole queue (up to ``max_group`` items) inside one ``BEGIN IMMEDIATE``
    transaction, each item in its own savepoint, and commits once — one fsync for many sales.
    No caller hears back before that commit: a sale answered 2xx is on disk. An item that fails
    rolls back only its own savepoint; if the commit itself fails, every item of the group fails
    (and nothing of it is on disk), so a terminal simply retries with the same id.
    """

    def __init__(self, path: Path, store_id: str, max_size_mb: int = 0,
                 max_group: int = 64) -> None:
        self.path = path
        self.store_id = store_id
        self.max_size_mb = max_size_mb
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def open(self) -> None:
        opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._thread = threading.Thread(target=self._writer, args=(opened,),
                                        name="ledger-writer", daemon=True)
        self._thread.start()
        await opened

    async def run(self, work: Callable[[Database], T]) -> T:
        """Run ``work(db)`` on the writer thread; its result arrives after the commit."""
        if self._thread is None:
            raise RuntimeError("ledger is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(work, future, loop))
        return await future

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, thread.join)

    def _writer(self, opened: asyncio.Future[None]) -> None:
        loop = opened.get_loop()
        try:
            db = open_ledger(self.path, self.store_id, self.max_size_mb)
        except BaseException as exc:
            loop.call_soon_threadsafe(_settle, opened, False, exc)
            return
        loop.call_soon_threadsafe(_settle, opened, True, None)
        try:
            while (job := self._queue.get()) is not None:
                group = [job]
                while len(group) < self.max_group:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        self._queue.put(None)
                        break
                    group.append(nxt)
                self._run_group(db, group)
        finally:
            db.close()

    def _run_group(self, db: Database, group: list[_Job]) -> None:
        conn = db.conn
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            for job in group:
                job.deliver(False, exc)
            return
        for job in group:
            if not conn.in_transaction:  # SQLite rolled the whole group back (e.g. disk full)
                outcomes.append((False, LedgerFull("the transaction was rolled back")))
                continue
            conn.execute("SAVEPOINT job")
            try:
                outcomes.append((True, job.work(db)))
                conn.execute("RELEASE job")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                outcomes.append((False, exc))
        lost = not conn.in_transaction
        try:
            if not lost:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure: BaseException = LedgerFull(str(exc)) if "full" in str(exc).lower() else exc
            outcomes = [(False, failure)] * len(group)
        if lost:
            outcomes = [(False, LedgerFull("the transaction was rolled back"))] * len(group)
        for job, (ok, value) in zip(group, outcomes, strict=True):
            job.deliver(ok, value)


@dataclass
class _Job:
    work: Callable[[Database], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop

    def deliver(self, ok: bool, value: Any) -> None:
        self.loop.call_soon_threadsafe(_settle, self.future, ok, value)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
