"""One sync at a time per ledger, across processes: the agent's background loop and
``backoffice agent sync`` take the same advisory file lock beside the ledger."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path


class SyncBusy(RuntimeError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"another sync of this ledger is running (lock {path})")


@contextlib.contextmanager
def sync_lock(ledger_path: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the ledger's sync lock; raise SyncBusy if it stays taken for ``wait_seconds``."""
    path = ledger_path.with_name(ledger_path.name + ".sync-lock")
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SyncBusy(path) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
